function load(url) {
  var s = document.createElement("script");
  s.src = url + "?callback=done";
  s.onerror = function () { alert("offline"); };
  document.head.appendChild(s);
  return s;
}
