// The gradfit playground page: settings, the WebSocket to the server, and the views.
"use strict";

const DRAWN = 16;
const $ = id => document.getElementById(id);
const state = {
  settings: null, defaults: null, limits: null, speed: 10, data: null, view: null,
  epoch: 0, running: false, train: [], test: [], path: [], goal: 0, connected: false,
};
// What the browser test reads: every update's arrival time and epochs, and every error.
const record = window.gradfitPlayground = { updates: [], errors: [], exports: [], state };
let ws = null;

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.onmessage = event => handle(JSON.parse(event.data));
  ws.onclose = () => {
    state.connected = false;
    showError("The connection to the server closed. Is `gradfit playground` still running? Reload to reconnect.");
  };
}

// ---- the URL holds the whole state --------------------------------------------------

const URL_KEYS = ["data", "noise", "n_points", "train_fraction", "seed", "features", "target", "hidden",
  "activation", "loss", "optimizer", "lr", "batch_size", "l2", "backend"];

function readHash(defaults) {
  const p = new URLSearchParams(location.hash.slice(1)), s = { ...defaults };
  const num = v => Number(v);
  for (const key of URL_KEYS) {
    if (!p.has(key)) continue;
    const v = p.get(key);
    if (key === "hidden") s.hidden = v === "" ? [] : v.split(",").map(num);
    else if (key === "features") s.features = v === "" ? [] : v.split(",");
    else if (key === "batch_size") s.batch_size = v === "full" ? null : num(v);
    else if (["noise", "train_fraction", "lr", "l2"].includes(key)) s[key] = num(v);
    else if (["n_points", "seed"].includes(key)) s[key] = num(v);
    else s[key] = v;
  }
  return { settings: s, speed: p.has("speed") ? num(p.get("speed")) : 10, epoch: p.has("epoch") ? num(p.get("epoch")) : 0 };
}

function writeHash() {
  const s = state.settings, p = new URLSearchParams();
  for (const key of URL_KEYS) {
    let v = s[key];
    if (key === "hidden" || key === "features") v = v.join(",");
    if (key === "batch_size") v = v === null ? "full" : v;
    if ((key === "features" || key === "target") && s.data !== "csv") continue;
    p.set(key, v);
  }
  p.set("speed", state.speed);
  if (state.epoch > 0) p.set("epoch", state.epoch);
  history.replaceState(null, "", "#" + p.toString());
  $("link").textContent = location.href;
}

// ---- messages from the server ------------------------------------------------------------

function handle(m) {
  switch (m.type) {
    case "hello": {
      state.connected = true;
      state.limits = m.limits; state.defaults = m.defaults;
      const fromUrl = readHash(m.defaults);
      state.settings = fromUrl.settings; state.speed = fromUrl.speed; state.goal = fromUrl.epoch;
      showLimits();
      syncControls();
      send({ type: "speed", epochs_per_update: state.speed });
      configure();
      break;
    }
    case "data":
      state.data = m; state.settings = m.settings;
      state.train = []; state.test = []; state.path = []; state.epoch = 0; state.view = null;
      syncControls(); buildLayerControls(); drawDatasetTiles();
      $("counts").textContent = `${m.train.y.length} training and ${m.test.y.length} test points`;
      $("descent-box").hidden = !m.contours;
      $("export-box").hidden = true; $("export-status").textContent = "";
      writeHash();
      if (state.goal > 0) { send({ type: "play", until: state.goal }); state.goal = 0; }
      break;
    case "update":
      state.train.push(...m.loss); state.test.push(...m.test_loss);
      state.view = m.view; state.epoch = m.epoch;
      if (m.epoch === 0) state.initialTest = m.initial_test_loss;
      if (m.view.point) state.path.push(m.view.point);
      record.updates.push({ t: performance.now(), epoch: m.epoch, epochs: m.loss.length });
      schedule();
      break;
    case "status":
      state.running = m.state === "running";
      $("play").classList.toggle("playing", state.running);
      $("play-icon").innerHTML = state.running ? "&#10074;&#10074;" : "&#9654;";
      if (m.state === "paused") { state.epoch = Math.max(state.epoch, m.epoch); writeHash(); }
      if (m.note) showError(m.note);
      document.body.dataset.state = m.state;
      break;
    case "table": showTable(m); break;
    case "export": showExport(m); break;
    case "error":
      record.errors.push(m.message);
      showError(m.message);
      break;
  }
}

function configure() {
  hideError();
  send({ type: "configure", settings: state.settings });
}

function change(key, value) {
  state.settings = { ...state.settings, [key]: value };
  state.goal = 0;
  configure();
}

// ---- controls -------------------------------------------------------------------------

function syncControls() {
  const s = state.settings;
  document.querySelectorAll("[data-setting]").forEach(el => {
    const key = el.dataset.setting, kind = el.dataset.kind;
    let v = s[key];
    if (kind === "batch") v = v === null ? "full" : String(v);
    if (kind === "percent") v = Math.round(v * 100);
    if (el.tagName === "SELECT" && ![...el.options].some(o => (o.value || o.text) === String(v))) {
      el.add(new Option(String(v), String(v)));
    }
    el.value = String(v);
  });
  $("speed").value = String(state.speed);
  if (![...$("speed").options].some(o => o.value === String(state.speed))) $("speed").add(new Option(state.speed, state.speed));
  $("train_fraction-out").textContent = Math.round(s.train_fraction * 100) + "%";
  $("noise-out").textContent = s.noise;
  $("n_points-out").textContent = s.n_points;
  document.querySelectorAll(".dataset").forEach(b => b.classList.toggle("selected", b.dataset.data === s.data));
  $("layer-count").textContent = `${s.hidden.length} hidden layer${s.hidden.length === 1 ? "" : "s"}`;
}

function readControl(el) {
  const kind = el.dataset.kind, v = el.value;
  if (kind === "float") return Number(v);
  if (kind === "int") return Math.round(Number(v));
  if (kind === "percent") return Number(v) / 100;
  if (kind === "batch") return v === "full" ? null : Number(v);
  return v;
}

function wireControls() {
  document.querySelectorAll("[data-setting]").forEach(el => {
    el.addEventListener("change", () => change(el.dataset.setting, readControl(el)));
    if (el.type === "range") el.addEventListener("input", () => { $(el.id + "-out").textContent = el.dataset.kind === "percent" ? el.value + "%" : el.value; });
  });
  $("speed").addEventListener("change", () => {
    state.speed = Number($("speed").value);
    send({ type: "speed", epochs_per_update: state.speed }); writeHash();
  });
  $("play").addEventListener("click", () => send({ type: state.running ? "pause" : "play" }));
  $("step").addEventListener("click", () => send({ type: "step" }));
  $("reset").addEventListener("click", () => { state.goal = 0; send({ type: "reset" }); });
  document.querySelectorAll(".dataset").forEach(b => b.addEventListener("click", () => change("data", b.dataset.data)));
  $("add-layer").addEventListener("click", () => {
    const h = state.settings.hidden;
    if (h.length < state.limits.max_layers) change("hidden", [...h, h.length ? h[h.length - 1] : 8]);
  });
  $("remove-layer").addEventListener("click", () => {
    const h = state.settings.hidden;
    if (h.length) change("hidden", h.slice(0, -1));
  });
  $("export").addEventListener("click", () => { $("export-status").textContent = "exporting…"; send({ type: "export" }); });
  $("csv").addEventListener("change", upload);
  $("use-table").addEventListener("click", () => {
    const features = [...$("features").selectedOptions].map(o => o.value);
    state.settings = { ...state.settings, data: "csv", features, target: $("target").value };
    configure();
  });
  document.querySelectorAll("button.copy").forEach(b => b.addEventListener("click", () => {
    navigator.clipboard && navigator.clipboard.writeText($(b.dataset.copy).textContent);
  }));
  window.addEventListener("resize", schedule);
}

function buildLayerControls() {
  const box = $("layer-controls"), canvas = $("net");
  box.innerHTML = "";
  const sizes = state.data.sizes, xs = Draw.layout(canvas, sizes, DRAWN).xs;
  const scale = canvas.clientWidth / canvas.width || 1;
  state.settings.hidden.forEach((units, i) => {
    const div = document.createElement("div");
    div.className = "layer-control";
    div.style.left = `${xs[i + 1] * scale}px`;
    div.innerHTML = `<div class="row"><button class="round tiny" title="one unit more">+</button>` +
      `<button class="round tiny" title="one unit less">&minus;</button></div>` +
      `<input type="number" min="1" max="${state.limits.max_units}" value="${units}" aria-label="units of hidden layer ${i + 1}">` +
      `<span>units</span>`;
    const [plus, minus] = div.querySelectorAll("button"), input = div.querySelector("input");
    const set = n => { const h = [...state.settings.hidden]; h[i] = n; change("hidden", h); };
    plus.addEventListener("click", () => set(Math.min(units + 1, state.limits.max_units)));
    minus.addEventListener("click", () => set(Math.max(units - 1, 1)));
    input.addEventListener("change", () => set(Math.round(Number(input.value))));
    box.appendChild(div);
  });
}

// ---- upload ---------------------------------------------------------------------------------

async function upload() {
  const file = $("csv").files[0];
  if (!file) return;
  send({ type: "upload", name: file.name, size: file.size });
  if (file.size > state.limits.max_upload_bytes) return;  // the server says why
  const chunk = 256 * 1024;
  for (let start = 0; start < file.size; start += chunk) {
    ws.send(await file.slice(start, start + chunk).arrayBuffer());
  }
}

function showTable(m) {
  $("table").hidden = false;
  $("table-name").textContent = `${m.name}: ${m.n_rows} rows, ${m.columns.length} columns`;
  const numeric = m.numeric.length ? m.numeric : m.columns;
  const features = $("features"), target = $("target");
  features.innerHTML = ""; target.innerHTML = "";
  m.columns.forEach(c => { features.add(new Option(c, c)); target.add(new Option(c, c)); });
  const last = numeric[numeric.length - 1];
  target.value = last;
  [...features.options].forEach(o => { o.selected = o.value === numeric[0] && o.value !== last; });
}

// ---- export ---------------------------------------------------------------------------------

function showExport(m) {
  record.exports.push(m);
  $("export-box").hidden = false;
  $("export-status").textContent = `epoch ${m.epoch}, final training loss ${m.final_loss}`;
  $("command").textContent = m.command;
  $("python").textContent = m.python;
  $("files").innerHTML = Object.entries(m.files)
    .map(([name, url]) => `<a href="${url}" download="${name}">${name}</a>`).join("");
}

// ---- drawing ----------------------------------------------------------------------------------

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  const go = () => { scheduled = false; render(); };
  if (document.hidden) setTimeout(go, 50); else requestAnimationFrame(go);
}

function render() {
  const d = state.data, v = state.view;
  if (!d) return;
  $("epoch").textContent = String(state.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const last = a => a.length ? a[a.length - 1] : null;
  $("train-loss").textContent = Draw.fmt(last(state.train));
  $("test-loss").textContent = Draw.fmt(last(state.test) ?? state.initialTest);
  if (v) {
    for (const part of ["train", "test"]) {
      $(`${part}-rmse`).textContent = Draw.fmt(v.scores[part].rmse);
      $(`${part}-r2`).textContent = Draw.fmt(v.scores[part].r2);
    }
  }
  Draw.lossChart($("loss-chart"), state.train, state.test);
  if (d.features.length === 1) {
    Draw.curve($("fit"), d, v && v.fit);
    $("fit-legend").textContent = "fit (blue), truth (dashed), training points (filled), test points (hollow)";
  } else {
    Draw.surface($("fit"), d, v && v.fit, Math.round(Math.sqrt(d.grid)));
    $("fit-legend").textContent = "fitted surface; points coloured by their target (white ring: training, black: test)";
  }
  Draw.network($("net"), d.sizes, v, d, DRAWN);
  if (d.contours) Draw.descent($("descent"), d.contours, state.path);
}

// The dataset tiles: a small picture of each problem.
function drawDatasetTiles() {
  document.querySelectorAll(".dataset canvas").forEach(c => {
    const ctx = c.getContext("2d"), kind = c.parentElement.dataset.data, n = 24;
    ctx.clearRect(0, 0, c.width, c.height);
    if (kind === "line" || kind === "sine") {
      ctx.strokeStyle = "#0877bd"; ctx.lineWidth = 2; ctx.beginPath();
      for (let i = 0; i <= 40; i++) {
        const x = -5 + i / 4, y = kind === "line" ? (2 * x + 3) / 14 : Math.sin(x) * 0.8;
        const px = i / 40 * 60 + 2, py = 32 - y * 28;
        if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
      }
      ctx.stroke();
    } else {
      const f = kind === "ripple"
        ? (a, b) => 2 * Math.sin(a) * Math.cos(b)
        : (a, b) => 3 * Math.exp(-((a - 1) ** 2 + (b - 1) ** 2)) - 2 * Math.exp(-((a + 1) ** 2 + (b + 1) ** 2) / 0.5);
      const values = [];
      for (let r = 0; r < n; r++) for (let k = 0; k < n; k++) values.push(f(-3 + 6 * k / (n - 1), -3 + 6 * r / (n - 1)));
      Draw.thumbnail(ctx, values, 2, 0, 0, 64);
    }
  });
}

function showLimits() {
  const l = state.limits;
  $("limits").textContent = `This session's caps: ${l.max_points.toLocaleString()} points, CSV files up to ` +
    `${(l.max_upload_bytes / 2 ** 20).toFixed(0)} MiB, ${l.max_layers} hidden layers of up to ${l.max_units} units, ` +
    `${l.max_work.toLocaleString()} training rows × weights per epoch, about ${(l.max_memory_bytes / 2 ** 20).toFixed(0)} MiB, ` +
    `${l.max_cpu_seconds} s of CPU time per run, ${l.max_updates_per_second} updates per second. ` +
    `A link to a CSV run needs the file uploaded again.`;
}

let errorTimer = null;
function showError(text) {
  const box = $("error");
  box.textContent = text; box.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(hideError, 12000);
}
function hideError() { $("error").hidden = true; }

wireControls();
connect();
