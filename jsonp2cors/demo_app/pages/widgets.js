/* Quote of the day widget (2013): injects a JSONP script tag. */
function showQuote(data) {
  document.getElementById("quote").textContent = "\u201c" + data.text + "\u201d - " + data.author;
}

(function () {
  var script = document.createElement("script");
  script.src = "http://localhost:8000/api/quote?callback=showQuote";
  document.getElementsByTagName("head")[0].appendChild(script);
})();
