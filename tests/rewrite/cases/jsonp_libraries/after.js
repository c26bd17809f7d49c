var jsonp = require("jsonp");
((done) => fetch("https://data.example.com/api/quote", {credentials: "same-origin"}).then((r) => r.json()).then((data) => done(null, data), (err) => done(err)))(function (err, data) {
  if (!err) { render(data); }
});
dojo.io.script.get({ url: "https://data.example.com/api/news", callbackParamName: "callback" });
YUI().use("jsonp", function (Y) {
  fetch("https://data.example.com/api/news?limit=3", {credentials: "same-origin"}).then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)))).then(function (data) {
    Y.one("#news").setHTML(data.headlines.length);
  });
});
