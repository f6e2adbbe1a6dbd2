/* wristbme case viewer: canvas pan/zoom, window/level, overlays, and landmark/polygon correction.
 *
 * Coordinates: the image frame is the original radiograph in pixels, (x, y) = (column, row). The page's
 * JSON (#viewer-data) carries the anatomy in that frame; the preview PNG is the same image downsampled
 * by data.previewScale. Texts come from the server's catalog (#viewer-text); none are written here.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("viewer-data").textContent);
  var T = JSON.parse(document.getElementById("viewer-text").textContent);
  var canvas = document.getElementById("viewer-canvas");
  var ctx = canvas.getContext("2d");
  var statusEl = document.getElementById("viewer-status");
  var W = data.image.cols, H = data.image.rows;
  var HIT_PX = 9;

  function clone(o) { return o == null ? o : JSON.parse(JSON.stringify(o)); }
  function $(id) { return document.getElementById(id); }
  function say(text) { statusEl.textContent = text; }

  var state = {
    src: null, srcIsFull: false, fullRequested: false,
    scale: 1, tx: 0, ty: 0, cssW: 0, cssH: 0, dpr: window.devicePixelRatio || 1,
    wl: { center: 128, width: 255 }, windowed: null, windowedKey: "",
    show: { regions: true, landmarks: true, heatmap: false, labels: false },
    anatomy: clone(data.anatomy), scores: data.scores,
    changed: { landmarks: {}, regions: {} },
    editMode: false, selected: null, drag: null, painted: false
  };

  // -- geometry ----------------------------------------------------------------------------------------
  function toScreen(x, y) { return [x * state.scale + state.tx, y * state.scale + state.ty]; }
  function toImage(sx, sy) { return [(sx - state.tx) / state.scale, (sy - state.ty) / state.scale]; }

  function resize() {
    var wrap = canvas.parentElement;
    var cssW = Math.max(200, wrap.clientWidth);
    var cssH = Math.max(240, Math.min(window.innerHeight * 0.78, cssW * 1.25));
    state.cssW = cssW; state.cssH = cssH;
    state.dpr = window.devicePixelRatio || 1;
    canvas.style.width = cssW + "px"; canvas.style.height = cssH + "px";
    canvas.width = Math.round(cssW * state.dpr); canvas.height = Math.round(cssH * state.dpr);
  }

  function fit() {
    var s = Math.min(state.cssW / W, state.cssH / H);
    state.scale = s;
    state.tx = (state.cssW - W * s) / 2;
    state.ty = (state.cssH - H * s) / 2;
  }

  function fitWrist() {
    // the bounding box of the regions and landmarks, with a margin; the whole image when there are none
    var a = state.anatomy, xs = [], ys = [];
    if (a) {
      Object.keys(a.regions || {}).forEach(function (b) { a.regions[b].polygon.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
      Object.keys(a.landmarks || {}).forEach(function (n) { xs.push(a.landmarks[n][0]); ys.push(a.landmarks[n][1]); });
    }
    if (xs.length < 3) { fit(); return; }
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var mx = (x1 - x0) * 0.3 + 10, my = (y1 - y0) * 0.3 + 10;
    x0 = Math.max(0, x0 - mx); x1 = Math.min(W, x1 + mx); y0 = Math.max(0, y0 - my); y1 = Math.min(H, y1 + my);
    var s = Math.min(state.cssW / (x1 - x0), state.cssH / (y1 - y0));
    state.scale = s;
    state.tx = (state.cssW - (x0 + x1) * s) / 2;
    state.ty = (state.cssH - (y0 + y1) * s) / 2;
  }

  function zoomAt(factor, sx, sy) {
    var minS = Math.min(state.cssW / W, state.cssH / H) * 0.5, maxS = 8;
    var s = Math.min(maxS, Math.max(minS, state.scale * factor));
    var p = toImage(sx, sy);
    state.scale = s;
    state.tx = sx - p[0] * s;
    state.ty = sy - p[1] * s;
    maybeLoadFull();
    draw();
  }

  // -- image sources and window/level -------------------------------------------------------------------
  function loadImage(url, onload) {
    var img = new Image();
    img.decoding = "async";
    img.onload = function () { onload(img); };
    img.onerror = function () { say(T["web.viewer.save_failed"] + " " + url); };
    img.src = url;
  }

  function maybeLoadFull() {
    if (state.fullRequested || data.previewScale >= 1) return;
    if (state.scale * state.dpr <= data.previewScale * 1.15) return;
    state.fullRequested = true;
    loadImage(data.fullUrl, function (img) {
      state.src = img; state.srcIsFull = true; state.windowed = null; state.windowedKey = "";
      canvas.dataset.resolution = "full";
      say(T["web.viewer.full_loaded"]);
      draw();
    });
  }

  function windowedSource() {
    var c = state.wl.center, w = state.wl.width;
    if (w >= 255 && Math.abs(c - 128) < 1) return state.src;  // identity: draw the PNG as it is
    var key = c + "/" + w + "/" + (state.srcIsFull ? "f" : "p");
    if (state.windowed && state.windowedKey === key) return state.windowed;
    var img = state.src, off = document.createElement("canvas");
    off.width = img.naturalWidth; off.height = img.naturalHeight;
    var octx = off.getContext("2d", { willReadFrequently: true });
    octx.drawImage(img, 0, 0);
    var id = octx.getImageData(0, 0, off.width, off.height), px = id.data;
    var lut = new Uint8ClampedArray(256), lo = c - w / 2;
    for (var v = 0; v < 256; v++) lut[v] = ((v - lo) / w) * 255;
    for (var i = 0; i < px.length; i += 4) {
      var g = lut[px[i]];
      px[i] = g; px[i + 1] = g; px[i + 2] = g;
    }
    octx.putImageData(id, 0, 0);
    state.windowed = off; state.windowedKey = key;
    return off;
  }

  // -- drawing -------------------------------------------------------------------------------------------
  function heatColor(score, alpha) {
    var t = Math.max(0, Math.min(1, score / 100)), r, g, b;
    if (t < 0.5) { var u = t / 0.5; r = 40 + 215 * u; g = 110 + 145 * u; b = 255 - 215 * u; }
    else { var k = (t - 0.5) / 0.5; r = 255; g = 255 - 200 * k; b = 40 - 40 * k; }
    return "rgba(" + (r | 0) + "," + (g | 0) + "," + (b | 0) + "," + alpha + ")";
  }

  function pathPolygon(poly) {
    ctx.beginPath();
    for (var i = 0; i < poly.length; i++) {
      var p = toScreen(poly[i][0], poly[i][1]);
      if (i === 0) ctx.moveTo(p[0], p[1]); else ctx.lineTo(p[0], p[1]);
    }
    ctx.closePath();
  }

  function draw() {
    var d = state.dpr;
    ctx.setTransform(d, 0, 0, d, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, state.cssW, state.cssH);
    if (state.src) {
      var src = windowedSource();
      var sw = src.naturalWidth || src.width, sh = src.naturalHeight || src.height;
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = state.scale < 1 ? "medium" : "low";
      ctx.drawImage(src, 0, 0, sw, sh, state.tx, state.ty, W * state.scale, H * state.scale);
    }
    var a = state.anatomy;
    if (a) {
      var bones = Object.keys(a.regions || {});
      var scores = (state.scores && state.scores.by_region) || {};
      if (state.show.heatmap) {
        bones.forEach(function (b) {
          if (scores[b] == null) return;
          pathPolygon(a.regions[b].polygon);
          ctx.fillStyle = heatColor(scores[b], 0.42);
          ctx.fill();
        });
      }
      if (state.show.regions) {
        ctx.lineWidth = 1.5;
        bones.forEach(function (b) {
          var r = a.regions[b];
          pathPolygon(r.polygon);
          var flagged = r.qc_flags && r.qc_flags.length;
          ctx.setLineDash(flagged ? [5, 4] : []);
          ctx.strokeStyle = state.changed.regions[b] ? "#ff4fd8" : (flagged ? "#ff9f1a" : "#33e0ff");
          ctx.stroke();
          if (state.editMode) {
            ctx.fillStyle = "#33e0ff";
            r.polygon.forEach(function (p, i) {
              var s = toScreen(p[0], p[1]);
              var sel = state.selected && state.selected.kind === "v" && state.selected.bone === b && state.selected.index === i;
              ctx.fillStyle = sel ? "#fff" : "#33e0ff";
              ctx.fillRect(s[0] - (sel ? 4 : 2.5), s[1] - (sel ? 4 : 2.5), sel ? 8 : 5, sel ? 8 : 5);
            });
          }
        });
        ctx.setLineDash([]);
      }
      if (state.show.labels) {
        ctx.font = "12px system-ui, sans-serif";
        ctx.textAlign = "center";
        bones.forEach(function (b) {
          var poly = a.regions[b].polygon, cx = 0, cy = 0;
          poly.forEach(function (p) { cx += p[0]; cy += p[1]; });
          var s = toScreen(cx / poly.length, cy / poly.length);
          var text = (data.boneNames[b] || b) + (scores[b] != null ? " " + scores[b].toFixed(0) : "");
          ctx.lineWidth = 3; ctx.strokeStyle = "rgba(0,0,0,0.8)"; ctx.strokeText(text, s[0], s[1]);
          ctx.fillStyle = "#fff"; ctx.fillText(text, s[0], s[1]);
        });
      }
      if (state.show.landmarks) {
        Object.keys(a.landmarks || {}).forEach(function (name) {
          var p = a.landmarks[name], s = toScreen(p[0], p[1]);
          var sel = state.selected && state.selected.kind === "lm" && state.selected.name === name;
          ctx.beginPath();
          ctx.arc(s[0], s[1], sel ? 6 : 4, 0, Math.PI * 2);
          ctx.fillStyle = state.changed.landmarks[name] ? "#ff4fd8" : "#ffe14d";
          ctx.fill();
          ctx.lineWidth = sel ? 2 : 1; ctx.strokeStyle = sel ? "#fff" : "#000";
          ctx.stroke();
        });
      }
    }
    if (state.src && !state.painted) {
      state.painted = true;
      requestAnimationFrame(function () {
        performance.mark("wristbme:first-paint");
        canvas.dataset.painted = "1";
      });
    }
  }

  // -- hit testing and editing ---------------------------------------------------------------------------
  function hit(sx, sy) {
    var a = state.anatomy, best = null, bestD = HIT_PX;
    if (!a) return null;
    if (state.show.landmarks) {
      Object.keys(a.landmarks || {}).forEach(function (name) {
        var s = toScreen(a.landmarks[name][0], a.landmarks[name][1]);
        var dd = Math.hypot(s[0] - sx, s[1] - sy);
        if (dd <= bestD) { bestD = dd; best = { kind: "lm", name: name }; }
      });
    }
    if (best || !state.show.regions) return best;
    Object.keys(a.regions || {}).forEach(function (b) {
      a.regions[b].polygon.forEach(function (p, i) {
        var s = toScreen(p[0], p[1]);
        var dd = Math.hypot(s[0] - sx, s[1] - sy);
        if (dd <= bestD) { bestD = dd; best = { kind: "v", bone: b, index: i }; }
      });
    });
    return best;
  }

  function moveSelected(x, y) {
    var sel = state.selected, a = state.anatomy;
    if (!sel || !a) return;
    x = Math.max(0, Math.min(W - 1, x)); y = Math.max(0, Math.min(H - 1, y));
    if (sel.kind === "lm") { a.landmarks[sel.name] = [x, y]; state.changed.landmarks[sel.name] = true; }
    else { a.regions[sel.bone].polygon[sel.index] = [x, y]; state.changed.regions[sel.bone] = true; }
    updatePending();
  }

  function selectedPoint() {
    var sel = state.selected, a = state.anatomy;
    if (!sel || !a) return null;
    return sel.kind === "lm" ? a.landmarks[sel.name] : a.regions[sel.bone].polygon[sel.index];
  }

  function nChanged() {
    return Object.keys(state.changed.landmarks).length + Object.keys(state.changed.regions).length;
  }

  function updatePending() {
    var el = $("edit-pending");
    if (el) el.textContent = nChanged() ? T["web.viewer.pending"] + " " + nChanged() : "";
    var save = $("edit-save"), discard = $("edit-discard");
    if (save) save.disabled = !state.editMode || nChanged() === 0;
    if (discard) discard.disabled = !state.editMode || nChanged() === 0;
  }

  function fillPointSelect() {
    var select = $("point-select");
    if (!select || !state.anatomy) return;
    while (select.options.length > 1) select.remove(1);
    var a = state.anatomy;
    var g1 = document.createElement("optgroup");
    g1.label = T["web.viewer.landmark_prefix"];
    Object.keys(a.landmarks || {}).forEach(function (name) {
      var o = document.createElement("option");
      o.value = "lm:" + name; o.textContent = name; g1.appendChild(o);
    });
    select.appendChild(g1);
    Object.keys(a.regions || {}).forEach(function (b) {
      var g = document.createElement("optgroup");
      g.label = data.boneNames[b] || b;
      a.regions[b].polygon.forEach(function (_p, i) {
        var o = document.createElement("option");
        o.value = "v:" + b + ":" + i; o.textContent = (data.boneNames[b] || b) + " · " + T["web.viewer.vertex_prefix"] + " " + (i + 1);
        g.appendChild(o);
      });
      select.appendChild(g);
    });
  }

  function syncSelect() {
    var select = $("point-select"), sel = state.selected;
    if (!select) return;
    select.value = !sel ? "" : (sel.kind === "lm" ? "lm:" + sel.name : "v:" + sel.bone + ":" + sel.index);
  }

  // -- saving ----------------------------------------------------------------------------------------------
  function save() {
    if (!nChanged()) { say(T["web.viewer.no_changes"]); return; }
    var body = { landmarks: {}, regions: {}, note: ($("edit-note") && $("edit-note").value) || null };
    Object.keys(state.changed.landmarks).forEach(function (n) { body.landmarks[n] = state.anatomy.landmarks[n]; });
    Object.keys(state.changed.regions).forEach(function (b) { body.regions[b] = state.anatomy.regions[b].polygon; });
    var btn = $("edit-save");
    btn.disabled = true;
    say(T["web.viewer.saving"]);
    fetch(data.saveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": data.csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, j: j }; });
    }).then(function (res) {
      if (!res.ok) { say(T["web.viewer.save_failed"] + " " + (res.j.message || "")); updatePending(); return; }
      applyDetail(res.j);
      var w = res.j.scores && res.j.scores.by_region && res.j.scores.by_region.wrist;
      var notes = (res.j.score_notes || []).join("; ");
      say(T["web.viewer.saved"] + " " + (w != null ? w.toFixed(1) : "–") + (notes ? " (" + T["web.viewer.not_scored"] + " " + notes + ")" : ""));
    }).catch(function (e) { say(T["web.viewer.save_failed"] + " " + e); updatePending(); });
  }

  function applyDetail(detail) {
    data.anatomy = clone(detail.anatomy);  // the saved anatomy is the new baseline for "discard"
    state.anatomy = clone(detail.anatomy);
    state.scores = detail.scores;
    state.changed = { landmarks: {}, regions: {} };
    state.selected = null;
    var by = (detail.scores && detail.scores.by_region) || {};
    document.querySelectorAll("[id^=score-]").forEach(function (el) {
      var key = el.id.slice(6);
      if (key === "model") return;
      el.textContent = by[key] != null ? by[key].toFixed(1) : "–";
    });
    var model = $("score-model");
    if (model && detail.scores) model.textContent = detail.scores.model_id + " " + detail.scores.model_version + (detail.scores.label ? " · " + detail.scores.label : "");
    fillList("audit-list", detail.audit, function (a) { return [a.event, " · " + (a.actor || "–") + " · " + a.at]; });
    fillList("corrections-list", detail.corrections, function (c) { return [null, c.at + " · " + c.operator + (c.note ? " · " + c.note : "")]; });
    fillPointSelect(); syncSelect(); updatePending(); draw();
  }

  function fillList(id, items, parts) {
    var ul = $(id);
    if (!ul) return;
    ul.textContent = "";
    (items || []).forEach(function (it) {
      var li = document.createElement("li"), p = parts(it);
      if (p[0]) { var code = document.createElement("code"); code.textContent = p[0]; li.appendChild(code); }
      li.appendChild(document.createTextNode(p[1]));
      ul.appendChild(li);
    });
    if (!items || !items.length) {
      var li = document.createElement("li"); li.className = "empty"; li.textContent = T["web.common.none"]; ul.appendChild(li);
    }
  }

  // -- events ----------------------------------------------------------------------------------------------
  function localXY(ev) { var r = canvas.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; }

  canvas.addEventListener("pointerdown", function (ev) {
    var p = localXY(ev);
    canvas.focus();
    var h = state.editMode ? hit(p[0], p[1]) : null;
    if (h) { state.selected = h; syncSelect(); state.drag = { kind: "point" }; }
    else { state.drag = { kind: "pan", x: p[0], y: p[1], tx: state.tx, ty: state.ty }; }
    canvas.setPointerCapture(ev.pointerId);
    draw();
  });
  canvas.addEventListener("pointermove", function (ev) {
    if (!state.drag) return;
    var p = localXY(ev);
    if (state.drag.kind === "point") { var q = toImage(p[0], p[1]); moveSelected(q[0], q[1]); }
    else { state.tx = state.drag.tx + p[0] - state.drag.x; state.ty = state.drag.ty + p[1] - state.drag.y; }
    draw();
  });
  function endDrag(ev) { if (state.drag) { state.drag = null; try { canvas.releasePointerCapture(ev.pointerId); } catch (e) { /* released */ } } }
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var p = localXY(ev);
    zoomAt(Math.pow(1.0015, -ev.deltaY), p[0], p[1]);
  }, { passive: false });
  canvas.addEventListener("keydown", function (ev) {
    var k = ev.key, step = ev.shiftKey ? 10 : 1, handled = true;
    if (k === "+" || k === "=") zoomAt(1.25, state.cssW / 2, state.cssH / 2);
    else if (k === "-" || k === "_") zoomAt(0.8, state.cssW / 2, state.cssH / 2);
    else if (k === "0") { fit(); draw(); }
    else if (k === "w" || k === "W") { fitWrist(); maybeLoadFull(); draw(); }
    else if (k.indexOf("Arrow") === 0) {
      var dx = k === "ArrowLeft" ? -1 : k === "ArrowRight" ? 1 : 0, dy = k === "ArrowUp" ? -1 : k === "ArrowDown" ? 1 : 0;
      var pt = state.editMode ? selectedPoint() : null;
      if (pt) moveSelected(pt[0] + dx * step, pt[1] + dy * step);
      else { state.tx -= dx * 40; state.ty -= dy * 40; }
      draw();
    } else if (k === "Escape" && state.editMode) { state.selected = null; syncSelect(); draw(); }
    else handled = false;
    if (handled) ev.preventDefault();
  });

  $("zoom-in").addEventListener("click", function () { zoomAt(1.25, state.cssW / 2, state.cssH / 2); });
  $("zoom-out").addEventListener("click", function () { zoomAt(0.8, state.cssW / 2, state.cssH / 2); });
  $("zoom-reset").addEventListener("click", function () { fit(); draw(); });
  $("zoom-wrist").addEventListener("click", function () { fitWrist(); maybeLoadFull(); draw(); });
  $("wl-width").addEventListener("input", function (ev) { state.wl.width = +ev.target.value; draw(); });
  $("wl-center").addEventListener("input", function (ev) { state.wl.center = +ev.target.value; draw(); });
  ["regions", "landmarks", "heatmap", "labels"].forEach(function (name) {
    var box = $("show-" + name);
    state.show[name] = box.checked;
    box.addEventListener("change", function () { state.show[name] = box.checked; draw(); });
  });

  var toggle = $("edit-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      state.editMode = !state.editMode;
      toggle.setAttribute("aria-pressed", String(state.editMode));
      ["point-select", "edit-note"].forEach(function (id) { $(id).disabled = !state.editMode; });
      if (state.editMode) { state.show.regions = state.show.landmarks = true; $("show-regions").checked = $("show-landmarks").checked = true; }
      say(T[state.editMode ? "web.viewer.edit_on" : "web.viewer.edit_off"]);
      updatePending(); draw();
    });
    $("point-select").addEventListener("change", function (ev) {
      var v = ev.target.value.split(":");
      state.selected = !v[0] ? null : v[0] === "lm" ? { kind: "lm", name: v[1] } : { kind: "v", bone: v[1], index: +v[2] };
      draw();
    });
    $("edit-save").addEventListener("click", save);
    $("edit-discard").addEventListener("click", function () {
      state.anatomy = clone(data.anatomy); state.changed = { landmarks: {}, regions: {} }; state.selected = null;
      syncSelect(); updatePending(); say(T["web.viewer.discarded"]); draw();
    });
    fillPointSelect();
  }

  window.addEventListener("resize", function () { resize(); fitWrist(); draw(); });

  // -- start: fit, paint the preview as soon as it decodes ---------------------------------------------------
  resize(); fitWrist();
  canvas.dataset.resolution = "preview";
  loadImage(data.previewUrl, function (img) {
    if (!state.srcIsFull) state.src = img;
    draw();
    maybeLoadFull();  // the wrist view may already be finer than the preview: fetch full resolution next
  });
  draw();

  // A small handle for tests and the console (no data beyond what the page already shows).
  window.wristbmeViewer = { state: state, toScreen: toScreen, toImage: toImage, draw: draw };
})();
