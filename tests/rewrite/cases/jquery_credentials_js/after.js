// Account box of the partner pages.
jQuery.ajax({
  url: "https://accounts.example.com/api/me",
  dataType: "json",
  success: function (me) { renderAccount(me); },
  xhrFields: {withCredentials: true}
}).done(function () { console.log("loaded"); });

$.get("/api/ping", { t: Date.now() }, function () {}, "json");

$.ajax({
  url: "/api/vote",
  dataType: "json",
  success: function (d) { tally(d); }
});
