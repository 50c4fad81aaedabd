// Drawing for the gradfit playground: plain canvas 2-D, no libraries.
"use strict";

const Draw = (() => {
  const POS = [8, 119, 189], NEG = [245, 147, 34], MID = [236, 236, 236];

  // Diverging colour for t in [-1, 1]: orange (negative) - light grey - blue (positive).
  function diverging(t) {
    t = Math.max(-1, Math.min(1, t || 0));
    const end = t < 0 ? NEG : POS, a = Math.abs(t);
    return [0, 1, 2].map(i => Math.round(MID[i] + (end[i] - MID[i]) * a));
  }
  const css = c => `rgb(${c[0]},${c[1]},${c[2]})`;

  function extent(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (lo === Infinity) return [0, 1];
    if (lo === hi) return [lo - 1, hi + 1];
    return [lo, hi];
  }

  // A raster of values (row-major, side x side) as an image, scaled to [-scale, scale].
  function heatmap(ctx, values, side, x, y, w, h, center, scale) {
    const img = ctx.createImageData(side, side);
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        // Row 0 of the grid is the lowest x2: draw it at the bottom.
        const v = values[r * side + c], col = diverging((v - center) / scale);
        const k = ((side - 1 - r) * side + c) * 4;
        img.data[k] = col[0]; img.data[k + 1] = col[1]; img.data[k + 2] = col[2]; img.data[k + 3] = 255;
      }
    }
    const tmp = document.createElement("canvas");
    tmp.width = side; tmp.height = side;
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(tmp, x, y, w, h);
  }

  function axes(ctx, box, xr, yr, xlabel, ylabel) {
    ctx.strokeStyle = "#bbb"; ctx.lineWidth = 1; ctx.fillStyle = "#777";
    ctx.font = "10px Helvetica, Arial, sans-serif";
    ctx.strokeRect(box.x, box.y, box.w, box.h);
    ctx.textAlign = "center";
    ctx.fillText(fmt(xr[0]), box.x, box.y + box.h + 12);
    ctx.fillText(fmt(xr[1]), box.x + box.w, box.y + box.h + 12);
    ctx.fillText(xlabel, box.x + box.w / 2, box.y + box.h + 12);
    ctx.textAlign = "right";
    ctx.fillText(fmt(yr[1]), box.x - 3, box.y + 8);
    ctx.fillText(fmt(yr[0]), box.x - 3, box.y + box.h);
    ctx.save(); ctx.translate(box.x - 8, box.y + box.h / 2); ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center"; ctx.fillText(ylabel, 0, -14); ctx.restore();
  }

  function fmt(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
    return Number(v.toPrecision(4)).toString();
  }

  // 1-D fit: truth (dashed), fitted curve, training (filled) and test (hollow) points.
  function curve(canvas, data, fit) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const box = { x: 40, y: 10, w: W - 52, h: H - 36 };
    const gx = data.grid.map(p => p[0]);
    const ys = [...data.train.y, ...data.test.y, ...(data.truth || []), ...(fit || [])];
    const xr = [gx[0], gx[gx.length - 1]], yr0 = extent(ys);
    const pad = (yr0[1] - yr0[0]) * 0.05, yr = [yr0[0] - pad, yr0[1] + pad];
    const X = v => box.x + (v - xr[0]) / (xr[1] - xr[0]) * box.w;
    const Y = v => box.y + box.h - (v - yr[0]) / (yr[1] - yr[0]) * box.h;
    axes(ctx, box, xr, yr, data.features[0], data.target);
    ctx.save(); ctx.beginPath(); ctx.rect(box.x, box.y, box.w, box.h); ctx.clip();
    if (data.truth) {
      ctx.setLineDash([5, 4]); ctx.strokeStyle = "#999"; ctx.lineWidth = 1.5;
      polyline(ctx, gx.map(X), data.truth.map(Y)); ctx.setLineDash([]);
    }
    data.test.X.forEach((p, i) => dot(ctx, X(p[0]), Y(data.test.y[i]), 3, null, "#888"));
    data.train.X.forEach((p, i) => dot(ctx, X(p[0]), Y(data.train.y[i]), 3.2, "#333", "#fff"));
    if (fit) {
      ctx.strokeStyle = css(POS); ctx.lineWidth = 2.5;
      polyline(ctx, gx.map(X), fit.map(Y));
    }
    ctx.restore();
  }

  function polyline(ctx, xs, ys) {
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(ys[i])) { started = false; continue; }
      if (started) ctx.lineTo(xs[i], ys[i]); else { ctx.moveTo(xs[i], ys[i]); started = true; }
    }
    ctx.stroke();
  }

  function dot(ctx, x, y, r, fill, stroke) {
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
    if (fill) { ctx.fillStyle = fill; ctx.fill(); }
    if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = 1; ctx.stroke(); }
  }

  // 2-D fit: the fitted surface as a heatmap, points coloured by their targets.
  function surface(canvas, data, fit, side) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const s = Math.min(W - 52, H - 36), box = { x: 40, y: 10, w: s, h: s };
    const yr = extent([...data.train.y, ...data.test.y]);
    const center = (yr[0] + yr[1]) / 2, scale = (yr[1] - yr[0]) / 2 || 1;
    if (fit) heatmap(ctx, fit, side, box.x, box.y, box.w, box.h, center, scale);
    const [b1, b2] = data.bounds;
    axes(ctx, box, b1, b2, data.features[0], data.features[1]);
    const X = v => box.x + (v - b1[0]) / (b1[1] - b1[0]) * box.w;
    const Y = v => box.y + box.h - (v - b2[0]) / (b2[1] - b2[0]) * box.h;
    data.test.X.forEach((p, i) => dot(ctx, X(p[0]), Y(p[1]), 3, css(diverging((data.test.y[i] - center) / scale)), "#000"));
    data.train.X.forEach((p, i) => dot(ctx, X(p[0]), Y(p[1]), 3, css(diverging((data.train.y[i] - center) / scale)), "#fff"));
    // colour bar
    const bx = box.x + box.w + 4;
    for (let i = 0; i < box.h; i++) {
      ctx.fillStyle = css(diverging(1 - 2 * i / box.h)); ctx.fillRect(bx, box.y + i, 6, 1);
    }
  }

  // Loss per epoch, log scale: test in black, training in grey.
  function lossChart(canvas, train, test) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const box = { x: 50, y: 6, w: W - 64, h: H - 22 };
    const all = [...sample(train, 400), ...sample(test, 400)].filter(v => v > 0 && Number.isFinite(v));
    if (!all.length) { axes(ctx, box, [0, 1], [0, 1], "epoch", ""); return; }
    const lr = extent(all.map(Math.log10)), n = Math.max(train.length, test.length, 1);
    axes(ctx, box, [1, n], [10 ** lr[0], 10 ** lr[1]], "epoch", "");
    const draw = (values, colour) => {
      const xs = [], ys = [], step = Math.max(1, Math.floor(values.length / 600));
      for (let i = 0; i < values.length; i += step) {
        xs.push(box.x + (n > 1 ? i / (n - 1) : 0) * box.w);
        ys.push(box.y + box.h - (Math.log10(values[i]) - lr[0]) / (lr[1] - lr[0] || 1) * box.h);
      }
      ctx.strokeStyle = colour; ctx.lineWidth = 1.5; polyline(ctx, xs, ys);
    };
    draw(train, "#9e9e9e"); draw(test, "#222");
  }

  function sample(values, k) {
    if (values.length <= k) return values;
    const out = [], step = values.length / k;
    for (let i = 0; i < values.length; i += step) out.push(values[Math.floor(i)]);
    out.push(values[values.length - 1]);
    return out;
  }

  // A unit's output over the inputs, drawn in a square: a curve (1 input) or a heatmap (2).
  function thumbnail(ctx, values, nIn, x, y, s) {
    ctx.fillStyle = "#fff"; ctx.fillRect(x, y, s, s);
    const [lo, hi] = extent(values), scale = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    if (nIn === 2) {
      const side = Math.round(Math.sqrt(values.length));
      heatmap(ctx, values, side, x, y, s, s, 0, scale);
    } else {
      ctx.fillStyle = "rgba(8,119,189,.08)"; ctx.fillRect(x, y, s, s);
      ctx.strokeStyle = "#ccc"; ctx.lineWidth = 0.5;
      ctx.beginPath(); ctx.moveTo(x, y + s / 2); ctx.lineTo(x + s, y + s / 2); ctx.stroke();
      const xs = values.map((_, i) => x + 2 + i / (values.length - 1) * (s - 4));
      const ys = values.map(v => y + s / 2 - v / scale * (s / 2 - 2));
      ctx.strokeStyle = css(POS); ctx.lineWidth = 1.5; polyline(ctx, xs, ys);
    }
    ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.strokeRect(x + 0.5, y + 0.5, s - 1, s - 1);
  }

  // Column positions of the network drawing: inputs, hidden layers, output.
  function layout(canvas, sizes, drawn) {
    const W = canvas.width, H = canvas.height, cols = sizes.length;
    const xs = sizes.map((_, i) => 70 + i * (W - 130) / Math.max(1, cols - 1));
    const maxRows = Math.max(...sizes.map(n => Math.min(n, drawn)));
    const s = Math.max(14, Math.min(34, (H - 30) / maxRows - 6));
    const nodes = sizes.map((n, i) => {
      const k = Math.min(n, drawn), gap = Math.min(s + 8, (H - 30) / Math.max(k, 1));
      const top = (H - 20 - gap * k) / 2;
      return Array.from({ length: k }, (_, j) => ({ x: xs[i], y: top + j * gap + gap / 2 }));
    });
    return { xs, nodes, s };
  }

  // The network: links with width ∝ |w| and colour by sign, units as thumbnails.
  function network(canvas, sizes, view, data, drawn) {
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const { nodes, s } = layout(canvas, sizes, drawn);
    if (view) {
      let wmax = 1e-9;
      view.weights.forEach(W => W.forEach(row => row.forEach(w => { wmax = Math.max(wmax, Math.abs(w)); })));
      view.weights.forEach((W, l) => {
        W.forEach((row, j) => row.forEach((w, i) => {
          const a = nodes[l][i], b = nodes[l + 1][j];
          if (!a || !b) return;
          ctx.strokeStyle = css(w < 0 ? NEG : POS);
          ctx.globalAlpha = 0.25 + 0.6 * Math.abs(w) / wmax;
          ctx.lineWidth = 0.3 + 5 * Math.abs(w) / wmax;
          ctx.beginPath(); ctx.moveTo(a.x + s / 2, a.y);
          const mx = (a.x + b.x) / 2;
          ctx.bezierCurveTo(mx, a.y, mx, b.y, b.x - s / 2, b.y); ctx.stroke();
        }));
      });
      ctx.globalAlpha = 1;
    }
    const nIn = sizes[0];
    // Inputs: each input's own value over the grid.
    nodes[0].forEach((p, i) => {
      const values = inputThumb(data, view, i);
      thumbnail(ctx, values, nIn, p.x - s / 2, p.y - s / 2, s);
      ctx.fillStyle = "#555"; ctx.font = "11px Helvetica, Arial"; ctx.textAlign = "right";
      ctx.fillText(data.features[i], p.x - s / 2 - 4, p.y + 4);
    });
    for (let l = 1; l < sizes.length - 1; l++) {
      nodes[l].forEach((p, j) => {
        const values = view && view.units[l - 1] ? view.units[l - 1][j] : null;
        if (values) thumbnail(ctx, values, nIn, p.x - s / 2, p.y - s / 2, s);
        else { ctx.strokeStyle = "#999"; ctx.strokeRect(p.x - s / 2, p.y - s / 2, s, s); }
      });
      if (sizes[l] > drawn) {
        ctx.fillStyle = "#777"; ctx.font = "11px Helvetica, Arial"; ctx.textAlign = "center";
        ctx.fillText(`+${sizes[l] - drawn} more`, nodes[l][0].x, canvas.height - 6);
      }
    }
    const out = nodes[sizes.length - 1][0];
    ctx.fillStyle = "#fff"; ctx.fillRect(out.x - s / 2, out.y - s / 2, s, s);
    ctx.strokeStyle = "#183d4e"; ctx.lineWidth = 2; ctx.strokeRect(out.x - s / 2, out.y - s / 2, s, s);
    ctx.fillStyle = "#555"; ctx.textAlign = "left"; ctx.fillText(data.target, out.x + s / 2 + 4, out.y + 4);
    return layout(canvas, sizes, drawn).xs;
  }

  function inputThumb(data, view, i) {
    if (!view || !view.units.length) {
      const n = data.features.length === 2 ? 144 : 32;
      return Array.from({ length: n }, (_, k) => inputValue(k, n, i, data.features.length));
    }
    const n = view.units[0][0].length;
    return Array.from({ length: n }, (_, k) => inputValue(k, n, i, data.features.length));
  }

  function inputValue(k, n, i, nIn) {
    if (nIn === 1) return -1 + 2 * k / (n - 1);
    const side = Math.round(Math.sqrt(n)), r = Math.floor(k / side), c = k % side;
    return i === 0 ? -1 + 2 * c / (side - 1) : -1 + 2 * r / (side - 1);
  }

  // The line's loss over (w, b) as shaded contour bands, and the descent path on it.
  function descent(canvas, contours, path) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const s = Math.min(W - 52, H - 36), box = { x: 40, y: 10, w: s, h: s };
    const n = contours.w.length, logs = contours.loss.flat().map(v => Math.log(v + 1e-12));
    const [lo, hi] = extent(logs), bands = 12;
    const img = ctx.createImageData(n, n);
    // Bands of equal log-loss, from pale (low) to deep blue (high), edged by a darker line.
    const bandOf = (r, c) => Math.min(bands - 1, Math.floor((logs[r * n + c] - lo) / (hi - lo || 1) * bands));
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      const band = bandOf(r, c), t = band / (bands - 1);
      const edge = (c + 1 < n && bandOf(r, c + 1) !== band) || (r + 1 < n && bandOf(r + 1, c) !== band);
      const k = ((n - 1 - r) * n + c) * 4, dim = edge ? 0.88 : 1;
      img.data[k] = (248 - 90 * t) * dim; img.data[k + 1] = (250 - 60 * t) * dim;
      img.data[k + 2] = (252 - 30 * t) * dim; img.data[k + 3] = 255;
    }
    const tmp = document.createElement("canvas"); tmp.width = n; tmp.height = n;
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true; ctx.drawImage(tmp, box.x, box.y, box.w, box.h);
    const wr = [contours.w[0], contours.w[n - 1]], br = [contours.b[0], contours.b[n - 1]];
    axes(ctx, box, wr, br, "slope w", "intercept b");
    const X = v => box.x + (v - wr[0]) / (wr[1] - wr[0]) * box.w;
    const Y = v => box.y + box.h - (v - br[0]) / (br[1] - br[0]) * box.h;
    ctx.save(); ctx.beginPath(); ctx.rect(box.x, box.y, box.w, box.h); ctx.clip();
    ctx.strokeStyle = "#c62828"; ctx.lineWidth = 1.5;
    polyline(ctx, path.map(p => X(p[0])), path.map(p => Y(p[1])));
    path.forEach(p => dot(ctx, X(p[0]), Y(p[1]), 1.6, "#c62828", null));
    if (path.length) {
      dot(ctx, X(path[0][0]), Y(path[0][1]), 4, "#fff", "#c62828");
      const last = path[path.length - 1];
      dot(ctx, X(last[0]), Y(last[1]), 4, "#c62828", "#fff");
    }
    ctx.restore();
  }

  return { curve, surface, lossChart, network, layout, descent, thumbnail, fmt, diverging, css };
})();
