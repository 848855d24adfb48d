/* Unit polygons of the duty map: status colours, tooltips, popups built as DOM (registry text is never parsed as HTML). */
(function () {
  'use strict';
  var FM = window.FangxunMap = window.FangxunMap || {};
  FM.units = [];

  FM.configure = function (config) {
    FM.config = config;
  };

  /* An element with a class and text content. */
  FM.el = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  };

  FM.unitStyle = function (feature) {
    var p = feature.properties, colours = FM.config.colours;
    return {
      color: '#37474f', weight: p.level === 'village' ? 0.7 : 1.2, opacity: 0.9,
      fillColor: colours[p.status] || colours.none, fillOpacity: 0.5,
      dashArray: p.synthetic ? '4 3' : null
    };
  };

  function label(map, key) {
    return (map && map[key]) || key;
  }

  function section(box, title, rows, emptyText) {
    box.appendChild(FM.el('h4', null, title));
    if (!rows.length) {
      box.appendChild(FM.el('p', 'fx-empty', emptyText));
      return;
    }
    var table = FM.el('table');
    rows.forEach(function (cells) {
      var tr = FM.el('tr');
      cells.forEach(function (cell) {
        var td = FM.el('td', cell.className, cell.text);
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    box.appendChild(table);
  }

  FM.unitPopup = function (p) {
    var c = FM.config, t = c.text, box = FM.el('div', 'fx-popup');
    var head = FM.el('h3', null, p.name);
    head.appendChild(FM.el('span', 'fx-badge fx-swatch-' + p.status, label(c.unitStatus, p.status)));
    box.appendChild(head);
    box.appendChild(FM.el('p', 'fx-meta', label(c.levels, p.level) + (p.parent ? ' · ' + p.parent : '') +
      ' · ' + t.code + ' ' + p.code));
    if (p.synthetic) { box.appendChild(FM.el('p', 'fx-synthetic', t.synthetic)); }
    section(box, t.plans, (p.plans || []).map(function (plan) {
      return [{text: label(c.kinds, plan[0])},
              {text: label(c.planStatus, plan[1]), className: 'fx-plan-' + plan[1]},
              {text: t.nextReview + ' ' + (plan[2] || t.noDue)}];
    }), t.noPlans);
    section(box, t.persons, (p.persons || []).map(function (person) {
      return [{text: person[0]}, {text: label(c.roles, person[1])}, {text: person[2] || ''}];
    }), t.noPersons);
    section(box, t.shelters, (p.shelters || []).map(function (shelter) {
      return [{text: shelter[0]}, {text: t.capacity + ' ' + shelter[1] + ' ' + t.people, className: 'fx-n'}];
    }), t.noShelters);
    if (c.unitLink) {
      var link = FM.el('a', 'fx-sheet-link', t.openSheet);
      link.href = c.unitLink.replace('{code}', encodeURIComponent(p.code));
      box.appendChild(link);
    }
    return box;
  };

  function bindUnit(feature, layer) {
    var p = feature.properties;
    layer.bindTooltip(function () { return FM.el('span', null, p.name); }, {sticky: true});
    layer.bindPopup(function () { return FM.unitPopup(p); }, {maxWidth: 380, minWidth: 240});
    layer.on('mouseover', function () { layer.setStyle({weight: 3}); });
    layer.on('mouseout', function () { layer.setStyle(FM.unitStyle(feature)); });
    FM.units.push({code: p.code, name: p.name, level: p.level, parent: p.parent, layer: layer});
  }

  FM.unitLayer = function (data) {
    return L.geoJSON(data, {style: FM.unitStyle, onEachFeature: bindUnit});
  };

  FM.outlineLayer = function (data) {
    return L.geoJSON(data, {interactive: false, style: {color: '#1a237e', weight: 2.2, opacity: 0.8, fill: false}});
  };
}());
