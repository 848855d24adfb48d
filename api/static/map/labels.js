/* Place names (地名) on the duty map: one level's names at a time, chosen by zoom (the districts at the city's
   zoom, the townships closer in, the villages when zoomed in), only those in view, none over another. */
(function () {
  'use strict';
  var FM = window.FangxunMap = window.FangxunMap || {};
  var PANE = 'fxLabels';
  var MAX_SHOWN = 400;   // names drawn at once at most, whatever the screen
  var CHAR_PX = 13, PAD_PX = 6, LINE_PX = 18;

  function overlaps(a, b) {
    return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  }

  /* A layer of {levels, zooms, places: [[lat, lon, name, level index], …]}, redrawn after every move and zoom. */
  var PlaceLabels = L.LayerGroup.extend({
    initialize: function (data) {
      L.LayerGroup.prototype.initialize.call(this);
      this._levels = data.levels;
      this._zooms = data.zooms;
      this._places = data.places;
    },
    onAdd: function (map) {
      if (!map.getPane(PANE)) { map.createPane(PANE); }
      map.on('moveend', this._redraw, this);
      this._redraw();
    },
    onRemove: function (map) {
      map.off('moveend', this._redraw, this);
      L.LayerGroup.prototype.onRemove.call(this, map);
      this.clearLayers();
    },
    /* The paged map's names: those of the units it has loaded, all of one level. */
    setPlaces: function (level, places) {
      this._levels = level ? [level] : [];
      this._zooms = {};
      if (level) { this._zooms[level] = 0; }
      this._places = places;
      if (this._map) { this._redraw(); }
    },
    /* The finest level whose names fit at `zoom`; the coarsest level there is when none does. */
    levelAt: function (zoom) {
      var zooms = this._zooms, present = this._levels.filter(function (level) { return level in zooms; });
      var chosen = present[0];
      present.forEach(function (level) { if (zooms[level] <= zoom) { chosen = level; } });
      return chosen;
    },
    _redraw: function () {
      var map = this._map, level = this.levelAt(map.getZoom()), index = this._levels.indexOf(level);
      var view = map.getBounds().pad(0.05), taken = [], self = this;
      this.clearLayers();
      if (level === undefined) { return; }
      // Places come larger units first: where two names would overlap, the larger unit's is kept.
      this._places.some(function (place) {
        if (place[3] !== index || !view.contains([place[0], place[1]])) { return false; }
        var point = map.latLngToContainerPoint([place[0], place[1]]);
        var half = (place[2].length * CHAR_PX + PAD_PX) / 2;
        var box = [point.x - half, point.y - LINE_PX / 2, point.x + half, point.y + LINE_PX / 2];
        if (taken.some(function (other) { return overlaps(box, other); })) { return false; }
        taken.push(box);
        var icon = L.divIcon({className: 'fx-place fx-place-' + level, iconSize: null,
                              html: FM.el('span', null, place[2])});
        self.addLayer(L.marker([place[0], place[1]], {icon: icon, pane: PANE, interactive: false, keyboard: false}));
        return taken.length >= MAX_SHOWN;
      });
    }
  });

  FM.placeLabels = function (data) {
    return new PlaceLabels(data);
  };
}());
