/* The unit search box: type part of a name, pick a match, the map shows that unit and opens its popup. */
(function () {
  'use strict';
  var FM = window.FangxunMap = window.FangxunMap || {};
  var LIMIT = 20, ORDER = {district: 0, township: 1, village: 2};

  function matches(query) {
    var found = FM.units.filter(function (unit) { return unit.name.indexOf(query) !== -1; });
    found.sort(function (a, b) {
      var aStart = a.name.indexOf(query) === 0 ? 0 : 1, bStart = b.name.indexOf(query) === 0 ? 0 : 1;
      return aStart - bStart || ORDER[a.level] - ORDER[b.level] || a.name.length - b.name.length ||
        (a.code < b.code ? -1 : 1);
    });
    return found.slice(0, LIMIT);
  }

  FM.showUnit = function (map, levels, unit) {
    var group = levels[unit.level];
    if (!map.hasLayer(group)) {
      Object.keys(levels).forEach(function (level) { map.removeLayer(levels[level]); });
      map.addLayer(group);  // the layer control follows (its radio moves to this level)
      map.fire('baselayerchange', {layer: group, name: FM.config.levels[unit.level]});
    }
    map.fitBounds(unit.layer.getBounds(), {animate: false, maxZoom: 15});
    unit.layer.openPopup();
  };

  /* A search box over `box`'s input and list, with arrow keys, Enter and Escape: `find(query, show)` hands the
     matches to `show` (at once or later; an empty query closes the list), `label(unit)` is the text after a name,
     `choose(unit)` is what picking one does. The exported file searches its own units, the served map the service. */
  FM.searchBox = function (box, find, label, choose) {
    var input = box.querySelector('input'), list = box.querySelector('ul'), t = FM.config.text;
    var shown = [], active = -1;

    function close() { list.hidden = true; list.textContent = ''; shown = []; active = -1; }

    function pick(index) {
      var unit = shown[index];
      if (!unit) { return; }
      input.value = unit.name;
      close();
      choose(unit);
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute('aria-selected', i === index ? 'true' : 'false');
      });
    }

    function show(found) {
      list.textContent = '';
      shown = found;
      active = -1;
      if (!found.length) { list.appendChild(FM.el('li', 'fx-search-empty', t.searchEmpty)); }
      found.forEach(function (unit, index) {
        var item = FM.el('li', 'fx-search-item');
        item.setAttribute('role', 'option');
        item.appendChild(FM.el('b', null, unit.name));
        item.appendChild(FM.el('span', null, label(unit)));
        item.addEventListener('mousedown', function (event) { event.preventDefault(); pick(index); });
        list.appendChild(item);
      });
      list.hidden = false;
    }

    input.addEventListener('input', function () {
      var query = input.value.trim();
      if (!query) { close(); }
      find(query, show);
    });
    input.addEventListener('keydown', function (event) {
      if (event.key === 'ArrowDown' && shown.length) {
        highlight((active + 1) % shown.length); event.preventDefault();
      } else if (event.key === 'ArrowUp' && shown.length) {
        highlight((active - 1 + shown.length) % shown.length); event.preventDefault();
      } else if (event.key === 'Enter') {
        pick(active >= 0 ? active : 0); event.preventDefault();
      } else if (event.key === 'Escape') {
        close();
      }
    });
    input.addEventListener('blur', function () { window.setTimeout(close, 150); });
  };

  FM.unitSearch = function (map, levels, box) {
    FM.searchBox(box, function (query, show) { if (query) { show(matches(query)); } },
      function (unit) { return FM.config.levels[unit.level] + (unit.parent ? ' · ' + unit.parent : ''); },
      function (unit) { FM.showUnit(map, levels, unit); });
  };
}());
