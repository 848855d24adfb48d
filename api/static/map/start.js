/* Puts the title, search box and legend into map controls and ties the layers together. */
(function () {
  'use strict';
  var FM = window.FangxunMap = window.FangxunMap || {};
  var NARROW = '(max-width: 600px)';

  FM.control = control;

  function control(map, id, position) {
    var element = document.getElementById(id);
    if (!element) { return; }
    var ctl = L.control({position: position});
    ctl.onAdd = function () {
      L.DomEvent.disableClickPropagation(element);
      L.DomEvent.disableScrollPropagation(element);
      return element;
    };
    ctl.addTo(map);
  }

  FM.start = function (map, parts) {
    FM.map = map;
    FM.levels = parts.levels;
    map.attributionControl.setPrefix(FM.config.text.prefix);
    control(map, 'fx-title', 'topleft');
    control(map, 'fx-search', 'topleft');
    control(map, 'fx-legend', 'bottomright');
    if (window.matchMedia && window.matchMedia(NARROW).matches) {
      document.getElementById('fx-legend').removeAttribute('open');  // folded on a phone: a tap on 图例 opens it
    }
    FM.unitSearch(map, parts.levels, document.getElementById('fx-search'));
    map.on('baselayerchange', function () {
      // Unit fills are redrawn on top when the level changes; the outlines and warnings stay above them.
      if (map.hasLayer(parts.outlines)) { parts.outlines.bringToFront(); }
      if (parts.warnings && map.hasLayer(parts.warnings)) { parts.warnings.bringToFront(); }
    });
    document.documentElement.setAttribute('data-map-ready', 'true');
  };
}());
