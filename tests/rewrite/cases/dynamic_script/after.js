/* Shared JSONP helper of the partner pages (2013). */
var LegacyApi = (function () {
  var counter = 0;

  function getRemoteData(url, onData) { // a project-local JSONP wrapper
    var name = "__legacy_cb_" + (counter++);
    window[name] = function (data) {
      delete window[name];
      onData(data);
    };
    fetch(url, {credentials: "same-origin"}).then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)))).then(((name) => (data) => window[name](data))(name));
  }

  function loadProfile(render) {
    getRemoteData("/api/profile", render);
  }

  function ticker() {
    fetch("/widgets/ticker", {credentials: "same-origin"}).then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)))).then((data) => tickerLoaded(data));
  }

  return { getRemoteData: getRemoteData, loadProfile: loadProfile, ticker: ticker };
})();
