/* The served duty map: the units of the level fitting the zoom, fetched for the area in view only (simplified for
   that zoom by the server) after each move, page by page; details and search asked of the service on demand. */
(function () {
  'use strict';
  var FM = window.FangxunMap = window.FangxunMap || {};
  var DEBOUNCE_MS = 250;
  var MAX_PAGES = 10;   // a view never needs more; more would only mean the level does not fit the zoom
  var ROLE_ORDER = {responsible: 0, deputy: 1, liaison: 2, duty_desk: 3};

  /* The finest level drawn at `zoom`: levels are [[level, first zoom], …] coarse to fine. */
  FM.levelAt = function (zoom) {
    var levels = FM.config.paged.levels, chosen = levels.length ? levels[0][0] : null;
    levels.forEach(function (entry) { if (entry[1] <= zoom) { chosen = entry[0]; } });
    return chosen;
  };

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function getJSON(url) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json, application/geo+json'}})
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      });
  }

  function bboxOf(map) {
    var b = map.getBounds().pad(0.1);
    var clamp = function (value, low, high) { return Math.min(high, Math.max(low, value)); };
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180),
            clamp(b.getNorth(), -90, 90)].map(function (v) { return v.toFixed(5); }).join(',');
  }

  /* The contact-sheet data of one unit as the popup's lists (FM.unitPopup). */
  function popupData(p, detail) {
    var seen = {}, persons = [];
    detail.contacts.slice().sort(function (a, b) {
      return (ROLE_ORDER[a.role] === undefined ? 9 : ROLE_ORDER[a.role]) -
        (ROLE_ORDER[b.role] === undefined ? 9 : ROLE_ORDER[b.role]);
    }).forEach(function (c) {
      var key = c.name + '\u0000' + c.phone;
      if (!seen[key]) { seen[key] = true; persons.push([c.name, c.role, c.phone_display]); }
    });
    return {code: p.code, name: p.name, level: p.level, status: p.status, synthetic: p.synthetic,
            parent: detail.parent ? detail.parent.name : '',
            plans: detail.plans.map(function (plan) { return [plan.kind, plan.status, plan.next_review_due]; }),
            persons: persons,
            shelters: detail.shelters.map(function (s) { return [s.name, s.capacity]; })};
  }

  function bindUnit(feature, layer) {
    var p = feature.properties;
    layer.bindTooltip(function () { return FM.el('span', null, p.name); }, {sticky: true});
    layer.bindPopup(function () {
      var box = FM.el('div', 'fx-popup');
      box.appendChild(FM.el('h3', null, p.name));
      box.appendChild(FM.el('p', 'fx-meta', FM.config.text.loading));
      getJSON(FM.config.paged.detailUrl.replace('{code}', encodeURIComponent(p.code))).then(function (detail) {
        layer.setPopupContent(FM.unitPopup(popupData(p, detail)));
      }, function () {
        box.lastChild.textContent = FM.config.text.loadFailed;
      });
      return box;
    }, {maxWidth: 380, minWidth: 240});
    layer.on('mouseover', function () { layer.setStyle({weight: 3}); });
    layer.on('mouseout', function () { layer.setStyle(FM.unitStyle(feature)); });
  }

  /* The level above the one drawn at `zoom` (null at the top). */
  FM.parentLevelAt = function (zoom) {
    var levels = FM.config.paged.levels, level = FM.levelAt(zoom), parent = null;
    levels.forEach(function (entry, index) { if (entry[0] === level && index > 0) { parent = levels[index - 1][0]; } });
    return parent;
  };

  /* The first zoom `level` is drawn at. */
  FM.firstZoom = function (level) {
    var found = FM.config.paged.levels.filter(function (entry) { return entry[0] === level; })[0];
    return found ? found[1] : 0;
  };

  /* Units for the view: of the level fitting the zoom, or (`parents`: the outlines) of the level above it. */
  var PagedUnits = L.GeoJSON.extend({
    initialize: function (options) {
      L.GeoJSON.prototype.initialize.call(this, null, options.geojson);
      this._parents = options.parents;
      this._seq = 0;
      this.level = null;
      this.byCode = {};
    },
    onAdd: function (map) {
      L.GeoJSON.prototype.onAdd.call(this, map);
      map.on('moveend', this._schedule, this);
      // After the page's script block has run: the map has its first view by then (fitBounds comes later in it,
      // and the moves before that first load are covered by it).
      this._first = true;
      this._timer = window.setTimeout(L.bind(this._load, this), 0);
    },
    onRemove: function (map) {
      map.off('moveend', this._schedule, this);
      window.clearTimeout(this._timer);
      this._seq += 1;
      L.GeoJSON.prototype.onRemove.call(this, map);
    },
    _schedule: function () {
      if (this._first) { return; }
      window.clearTimeout(this._timer);
      this._timer = window.setTimeout(L.bind(this._load, this), DEBOUNCE_MS);
    },
    _levelNow: function (zoom) {
      return this._parents ? FM.parentLevelAt(zoom) : FM.levelAt(zoom);
    },
    _load: function () {
      var map = this._map;
      this._first = false;
      if (!map) { return; }
      var zoom = Math.round(map.getZoom()), level = this._levelNow(zoom), seq = ++this._seq, self = this;
      if (!level) { this._show(null, []); return; }
      var url = FM.config.paged.unitsUrl + '?level=' + encodeURIComponent(level) + '&zoom=' + zoom +
        '&bbox=' + bboxOf(map);
      this.fire('fx:loading', {level: level});
      (function page(next, collected, pages) {
        getJSON(next).then(function (body) {
          if (seq !== self._seq) { return; }
          collected = collected.concat(body.features);
          var more = (body.links || []).filter(function (link) { return link.rel === 'next'; })[0];
          if (more && pages < MAX_PAGES) { page(more.href, collected, pages + 1); } else { self._show(level, collected); }
        }, function () {
          if (seq === self._seq) { self.fire('fx:failed', {level: level}); }
        });
      }(url, [], 1));
    },
    _show: function (level, features) {
      this.clearLayers();
      this.byCode = {};
      this.level = level;
      this.addData({type: 'FeatureCollection', features: features});
      this.eachLayer(function (layer) { this.byCode[layer.feature.properties.code] = layer; }, this);
      this.fire('fx:loaded', {level: level, features: features});
    }
  });

  FM.pagedUnits = function () {
    return new PagedUnits({geojson: {style: FM.unitStyle, onEachFeature: bindUnit}});
  };

  /* The outlines of the level above the one drawn (districts over townships, townships over villages). */
  FM.pagedOutlines = function () {
    return new PagedUnits({parents: true, geojson: {interactive: false,
      style: {color: '#1a237e', weight: 2.2, opacity: 0.8, fill: false}}});
  };

  /* The search box asks the service; a pick zooms to the unit at its level and opens its popup once loaded. */
  function pagedSearch(map, units, box) {
    var timer = null, asked = 0;

    function show(unit) {
      var url = FM.config.paged.unitsUrl + '?root=' + encodeURIComponent(unit.code) + '&level=' +
        encodeURIComponent(unit.level);
      getJSON(url).then(function (body) {
        var feature = body.features[0];
        if (!feature || !feature.geometry) { return; }
        var bounds = L.geoJSON(feature).getBounds(), levels = FM.config.paged.levels, zoom = map.getBoundsZoom(bounds);
        levels.forEach(function (entry, index) {
          if (entry[0] !== unit.level) { return; }
          zoom = Math.max(zoom, entry[1]);
          if (index + 1 < levels.length) { zoom = Math.min(zoom, levels[index + 1][1] - 1); }
        });
        units.once('fx:loaded', function () {
          var layer = units.byCode[unit.code];
          if (layer) { layer.openPopup(); }
        });
        map.setView(bounds.getCenter(), Math.min(zoom, map.getMaxZoom()), {animate: false});
      });
    }

    FM.searchBox(box, function (query, render) {
      var ticket = ++asked;
      window.clearTimeout(timer);
      if (!query) { return; }
      timer = window.setTimeout(function () {
        getJSON(FM.config.paged.searchUrl + '?limit=20&q=' + encodeURIComponent(query)).then(function (body) {
          if (ticket === asked) { render(body.units); }
        });
      }, 150);
    }, function (unit) { return unit.level_label + (unit.label !== unit.name ? ' · ' + unit.label : ''); }, show);
  }

  function first(group) {
    return group.getLayers()[0];
  }

  FM.startPaged = function (map, parts) {
    var units = first(parts.units), outlines = first(parts.outlines), labels = first(parts.labels);
    var status = document.getElementById('fx-level'), t = FM.config.text, root = document.documentElement;
    FM.map = map;
    FM.paged = {units: units, outlines: outlines, requests: []};
    map.attributionControl.setPrefix(t.prefix);
    FM.control(map, 'fx-title', 'topleft');
    FM.control(map, 'fx-search', 'topleft');
    FM.control(map, 'fx-legend', 'bottomright');
    if (window.matchMedia && window.matchMedia('(max-width: 600px)').matches) {
      document.getElementById('fx-legend').removeAttribute('open');
    }
    pagedSearch(map, units, document.getElementById('fx-search'));
    units.on('fx:loading', function () { root.setAttribute('data-map-loading', 'true'); });
    units.on('fx:failed', function () {
      root.removeAttribute('data-map-loading');
      status.textContent = t.loadFailed;
    });
    units.on('fx:loaded', function (event) {
      var levels = FM.config.paged.levels, names = FM.config.levels, index = -1;
      levels.forEach(function (entry, i) { if (entry[0] === event.level) { index = i; } });
      status.textContent = event.level ? format(t.showing, {level: names[event.level]}) +
        (index >= 0 && index + 1 < levels.length ? format(t.zoomFor, {level: names[levels[index + 1][0]]}) : '') : '';
      relabel();
      if (map.hasLayer(outlines)) { outlines.bringToFront(); }
      if (parts.warnings && map.hasLayer(parts.warnings)) { parts.warnings.bringToFront(); }
      root.setAttribute('data-map-level', event.level || '');
      root.removeAttribute('data-map-loading');
      // Ready once the page itself has loaded too (its icon and styles), not only the first units.
      if (document.readyState === 'complete') {
        root.setAttribute('data-map-ready', 'true');
      } else {
        window.addEventListener('load', function () { root.setAttribute('data-map-ready', 'true'); });
      }
    });
    outlines.on('fx:loaded', function () {
      relabel();
      if (parts.warnings && map.hasLayer(parts.warnings)) { parts.warnings.bringToFront(); }
    });

    /* Names of the units drawn once they are large enough (a zoom past their first), else those of the outlines. */
    function relabel() {
      var zoom = Math.round(map.getZoom()), source = units;
      if (outlines.level && outlines.level === FM.parentLevelAt(zoom) && zoom <= FM.firstZoom(units.level)) {
        source = outlines;
      }
      var places = [];
      source.eachLayer(function (layer) {
        var p = layer.feature.properties;
        places.push([p.label_lat, p.label_lon, p.name, 0]);
      });
      labels.setPlaces(source.level, places);
    }
  };
}());
