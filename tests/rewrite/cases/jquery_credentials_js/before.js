// Account box of the partner pages.
jQuery.ajax({
  url: "https://accounts.example.com/api/me",
  dataType: "jsonp",
  jsonp: "jsonp",
  success: function (me) { renderAccount(me); }
}).done(function () { console.log("loaded"); });

$.get("/api/ping", { t: Date.now() }, function () {}, "jsonp");

$.ajax({
  type: "POST",
  url: "/api/vote?callback=?",
  dataType: "jsonp",
  success: function (d) { tally(d); }
});
