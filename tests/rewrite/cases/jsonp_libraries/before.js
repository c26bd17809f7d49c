var jsonp = require("jsonp");
jsonp("https://data.example.com/api/quote", { param: "cb", name: "quoteOfTheDay" }, function (err, data) {
  if (!err) { render(data); }
});
dojo.io.script.get({ url: "https://data.example.com/api/news", callbackParamName: "callback" });
YUI().use("jsonp", function (Y) {
  Y.jsonp("https://data.example.com/api/news?callback={callback}&limit=3", function (data) {
    Y.one("#news").setHTML(data.headlines.length);
  });
});
