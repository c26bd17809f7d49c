/* Shared JSONP helper of the partner pages (2013). */
var LegacyApi = (function () {
  var counter = 0;

  function getRemoteData(url, onData) { // a project-local JSONP wrapper
    var name = "__legacy_cb_" + (counter++);
    window[name] = function (data) {
      delete window[name];
      onData(data);
    };
    var script = document.createElement("script");
    script.src = url + (url.indexOf("?") === -1 ? "?" : "&") + "callback=" + name;
    script.async = true;
    document.getElementsByTagName("head")[0].appendChild(script);
  }

  function loadProfile(render) {
    getRemoteData("/api/profile?jsoncallback=", render);
  }

  function ticker() {
    var s = document.createElement("script");
    s.setAttribute("src", "/widgets/ticker?cb=tickerLoaded");
    document.body.appendChild(s);
  }

  return { getRemoteData: getRemoteData, loadProfile: loadProfile, ticker: ticker };
})();
