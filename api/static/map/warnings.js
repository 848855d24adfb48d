/* The areas under warning: hatched in the warning's colour with a thick dashed edge, in a pane of their own above
   the units, so that a red warning can never be taken for the solid red of overdue plans. Only the edge takes
   clicks (the warning's popup): inside the area the units below keep theirs. */
(function () {
  'use strict';
  var FM = window.FangxunMap = window.FangxunMap || {};
  var SVG = 'http://www.w3.org/2000/svg';
  var PANE = 'fxWarnings';

  function svgNode(tag, attributes) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attributes).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    return node;
  }

  FM.hatchId = function (colour) {
    return 'fx-hatch-' + colour;
  };

  /* One <pattern> per warning colour (stripes at 45°), in a hidden SVG of the page; paths fill with url(#id). */
  function addHatches() {
    if (document.getElementById('fx-hatches')) { return; }
    var colours = FM.config.warningColours;
    var svg = svgNode('svg', {id: 'fx-hatches', 'class': 'fx-defs', width: '0', height: '0', 'aria-hidden': 'true'});
    var defs = svgNode('defs', {});
    Object.keys(colours).forEach(function (name) {
      var pattern = svgNode('pattern', {id: FM.hatchId(name), patternUnits: 'userSpaceOnUse', width: '10',
                                        height: '10', patternTransform: 'rotate(45)'});
      pattern.appendChild(svgNode('rect', {x: '0', y: '0', width: '4', height: '10', fill: colours[name],
                                           'fill-opacity': '0.75'}));
      defs.appendChild(pattern);
    });
    svg.appendChild(defs);
    document.body.appendChild(svg);
  }

  FM.warningStyle = function (feature) {
    var name = feature.properties.colour, known = Object.prototype.hasOwnProperty.call(FM.config.warningColours, name);
    return {
      pane: PANE, color: known ? FM.config.warningColours[name] : '#888', weight: 4, opacity: 1, dashArray: '12 6',
      fill: known, fillColor: known ? 'url(#' + FM.hatchId(name) + ')' : null, fillOpacity: 1
    };
  };

  function popup(p) {
    var c = FM.config, box = FM.el('div', 'fx-popup');
    box.appendChild(FM.el('h3', null, (p.event || '') + ((c.warningLabels || {})[p.colour] || p.colour || '')));
    if (p.headline) { box.appendChild(FM.el('p', null, p.headline)); }
    if (p.expires) { box.appendChild(FM.el('p', 'fx-meta', c.text.expires + ' ' + p.expires)); }
    return box;
  }

  var WarningAreas = L.GeoJSON.extend({
    onAdd: function (map) {
      if (!map.getPane(PANE)) { map.createPane(PANE); }
      addHatches();
      L.GeoJSON.prototype.onAdd.call(this, map);
    }
  });

  FM.warningLayer = function (data) {
    return new WarningAreas(data, {
      pane: PANE,
      style: FM.warningStyle,
      onEachFeature: function (feature, layer) {
        layer.bindPopup(function () { return popup(feature.properties); });
      }
    });
  };
}());
