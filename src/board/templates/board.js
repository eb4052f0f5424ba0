// Live refresh: when the store changes, fetch this page again and swap in its main section,
// unless staff are filling a form in it (then once they leave it).
(function () {
  if (!window.EventSource || !window.fetch) return;
  var busy = false, pending = false;
  function editing(main) {
    var a = document.activeElement;
    if (a && a !== document.body && main.contains(a) && a.form) return true;
    return Array.prototype.some.call(main.querySelectorAll('input, textarea, select'), function (e) {
      if (e.type === 'hidden') return false;
      if (e.tagName === 'SELECT') return Array.prototype.some.call(e.options, function (o) { return o.selected !== o.defaultSelected; });
      return e.value !== e.defaultValue;
    });
  }
  function refresh() {
    var main = document.getElementById('live');
    if (!main) return;
    if (busy || editing(main)) { pending = true; return; }
    busy = true; pending = false;
    fetch(location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var next = html && new DOMParser().parseFromString(html, 'text/html').getElementById('live');
        if (next && !editing(main)) main.replaceWith(next);
      })
      .catch(function () {})
      .then(function () { busy = false; if (pending) setTimeout(refresh, 300); });
  }
  document.addEventListener('focusout', function () { if (pending) setTimeout(refresh, 300); });
  new EventSource('/events').addEventListener('change', refresh);
})();
