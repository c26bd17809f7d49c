/* AngularJS 1.5 account app for the old customer portal (served from https://portal.example.com). */
angular.module("portal", ["ngResource"])
  .config(function ($sceDelegateProvider) {
    $sceDelegateProvider.resourceUrlWhitelist(["self", "https://service.example.com/**"]);
  })
  .controller("AccountCtrl", function ($scope, $http, $sce, $resource, $window, $document) {
    var API = "https://service.example.com/api";

    $http.get(API + "/account", { withCredentials: true }) // expect: angular-jsonp #ng-account
      .then(function (res) { $scope.account = res.data; });

    $http.get(API + "/weather").success(function (data) { // expect: angular-jsonp #ng-weather
      $scope.weather = data;
    });

    var Forecast = $resource(API + "/weather/:city", { city: "@city" }, {
      lookup: { method: "GET", withCredentials: true }, // expect: angular-jsonp #ng-resource
      save: { method: "POST" }
    });
    $scope.paris = Forecast.lookup({ city: "paris" });

    $http({ method: "GET", url: API + "/weather/berlin" }); // expect: angular-jsonp #ng-http-config

    // The hand-written fallback for IE8 customers.
    $scope.loadLegacy = function (city) {
      var cbName = "portalWeather_" + city;
      $window[cbName] = function (data) { $scope.$apply(function () { $scope.legacy = data; }); };
      // expect: dynamic-script #ng-dynamic
      fetch(API + "/weather/" + city, {credentials: "same-origin"}).then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)))).then(((name) => (data) => $window[name](data))(cbName));
    };

    // Not JSONP: plain $http.get of JSON and an event callback.
    $http.get("/api/account").then(function (res) { $scope.me = res.data; });
    $scope.$on("logout", function callback() { $scope.account = null; });
  });
