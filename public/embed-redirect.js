// Forwards an old embed link, embed.html?<query>#<hash>, to the widget's address, index.html?embed&<query>#<hash>,
// in the same folder (so it works under any sub-path), replacing the history entry. A plain script file: the page's
// policy forbids inline scripts.
(function () {
  var query = location.search.replace(/^\?/, '');
  var target = new URL('index.html?embed' + (query ? '&' + query : '') + location.hash, location.href);
  location.replace(target.href);
})();
