// The status page: polls the control API (docs/api.md) about once a second and redraws.
// Plain JS, no build step. Any error (503 during a master take-over, a dropped connection)
// only shows a notice; the next poll tries again with the last data left on screen.
"use strict";

const POLL_MS = 1000;
const state = {
  selected: null,          // job id shown in the detail section
  pinned: false,           // the person picked it (otherwise follow the newest running job)
  maxProgress: new Map(),  // job id -> highest fraction shown, so bars never move backwards
  openLogs: new Map(),     // attempt -> log text (or a message) shown under a failure
  lanes: "worker",
  detail: null,
  attempts: [],
};

const $ = (sel) => document.querySelector(sel);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// The cluster token, for requests that change something (the server's cookie only reads). The
// link the page is opened with carries it in the fragment (#token=…), which no server receives;
// it is kept in this tab's session storage, which other ports of this host cannot read.
const TOKEN_KEY = "mapreduce-token";

function takeTokenFromAddress() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
}

async function api(path, options) {
  const method = (options && options.method) || "GET";
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (method !== "GET" && !token) {
    throw new HttpError(401, "this needs the cluster token: open the page through its link (`mapreduce page` prints it)");
  }
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 8000);
  let res;
  try {
    res = await fetch(path, { cache: "no-store", signal: ctl.signal, ...options, headers });
  } catch (e) {
    throw new HttpError(0, "cannot reach the node: " + (e.name === "AbortError" ? "timed out" : e.message));
  } finally {
    clearTimeout(timer);
  }
  // A token this server refuses (another cluster's, on the same port) is dropped; reads go on with the cookie.
  if (res.status === 401 && token) sessionStorage.removeItem(TOKEN_KEY);
  let body = null;
  try { body = await res.json(); } catch { /* an empty or non-JSON body */ }
  if (!res.ok) throw new HttpError(res.status, (body && body.error) || `${res.status} ${res.statusText}`);
  return body;
}

// Reuses the children of `parent` keyed by `key`, so hovered bars keep their tooltips and
// expanded logs stay open across redraws; creates, updates, reorders and removes as needed.
function keyed(parent, items, key, create, update) {
  const old = new Map();
  for (const child of Array.from(parent.children)) if (child.dataset.key !== undefined) old.set(child.dataset.key, child);
  let prev = null;
  for (const item of items) {
    const k = String(key(item));
    let node = old.get(k);
    if (node) old.delete(k);
    else { node = create(item); node.dataset.key = k; }
    update(node, item);
    const want = prev ? prev.nextSibling : parent.firstChild;
    if (want !== node) parent.insertBefore(node, want);
    prev = node;
  }
  for (const node of old.values()) node.remove();
}

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

// The API's times are UTC; one written without a zone must not be read as local time.
function parseTime(iso) {
  if (!iso) return NaN;
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : iso + "Z");
}

// Tolerates the shapes an API build may send: a detail with its summary nested under `job`,
// an attempt's id as `name`, a member's running attempts as a list.
function normDetail(d) {
  if (!d || !d.job) return d;
  const { job, ...rest } = d;
  return { ...job, ...rest };
}

function normAttempt(a) {
  return a.attempt === undefined && a.name !== undefined ? { ...a, attempt: a.name } : a;
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(parseTime(iso));
  return isNaN(d) ? iso : d.toLocaleTimeString([], { hour12: false });
}

function fmtDateTime(iso) {
  if (!iso) return "";
  const d = new Date(parseTime(iso));
  return isNaN(d) ? iso : d.toLocaleString([], { hour12: false });
}

function fmtSeconds(s) {
  if (s === null || s === undefined || isNaN(s)) return "";
  return s < 10 ? s.toFixed(2) + " s" : s < 600 ? s.toFixed(1) + " s" : (s / 60).toFixed(1) + " min";
}

function fmtBytes(n) {
  if (n < 1024) return n + " B";
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n, i = -1;
  do { v /= 1024; i++; } while (v >= 1024 && i < units.length - 1);
  return v.toFixed(v < 10 ? 1 : 0) + " " + units[i];
}

// Akka addresses are long; a lane shows host:port, the tooltip the whole address.
function shortWorker(w) {
  if (!w) return "?";
  const m = /@([^/]+)/.exec(w);
  return m ? m[1] : w;
}

function attemptClass(s) {
  return s === "running" || s === "succeeded" || s === "failed" ? "state-" + s : "state-other";
}

function fraction(job) {
  const total = (job.mapsTotal || 0) + (job.reducesTotal || 0);
  let f = total > 0 ? ((job.mapsDone || 0) + (job.reducesDone || 0)) / total : 0;
  if (job.state === "succeeded") f = 1;
  const seen = state.maxProgress.get(job.id) || 0;
  if (f < seen) f = seen; // a take-over or a lost map output may report fewer done; the bar holds
  state.maxProgress.set(job.id, f);
  return f;
}

// What a running job waits for (the kvstore), as the CLI says it.
function waitingText(w) {
  return `waiting for the ${w.what}: ${w.reason} since ${fmtTime(w.since)} (tasks resume when it is back)`;
}

function showNotice(text) {
  const n = $("#notice");
  if (text) { setText(n, text); n.hidden = false; } else n.hidden = true;
}

// ---- cluster ----

function renderCluster(cluster) {
  setText($("#master"), cluster.master ? "master: " + shortWorker(cluster.master) : "master: none");
  $("#master").dataset.address = cluster.master || "";
  const members = [...(cluster.members || [])].sort((a, b) => a.address.localeCompare(b.address));
  keyed($("#members tbody"), members, (m) => m.address, () => {
    const tr = el("tr");
    for (const c of ["address", "roles", "status", "health", "slots num"]) tr.appendChild(el("td", c));
    return tr;
  }, (tr, m) => {
    tr.dataset.member = m.address;
    const isMaster = cluster.master === m.address;
    setText(tr.querySelector(".address"), m.address + (isMaster ? "  (master)" : ""));
    setText(tr.querySelector(".roles"), (m.roles || []).join(", "));
    setText(tr.querySelector(".status"), m.status || "");
    const health = tr.querySelector(".health");
    setText(health, m.reachable === false ? "unreachable" : "healthy");
    health.className = "health " + (m.reachable === false ? "unhealthy" : "healthy");
    const isWorker = (m.roles || []).includes("worker");
    const running = Array.isArray(m.running) ? m.running.length : m.running ?? 0;
    const slots = tr.querySelector(".slots");
    setText(slots, isWorker ? `${running} / ${m.slots ?? "?"} busy` : "");
    slots.title = Array.isArray(m.running) && m.running.length ? "running " + m.running.join(", ") : "";
  });
}

// ---- jobs ----

function renderJobs(jobs) {
  $("#no-jobs").hidden = jobs.length > 0;
  keyed($("#jobs tbody"), jobs, (j) => j.id, (j) => {
    const tr = el("tr");
    tr.appendChild(el("td", "id"));
    tr.appendChild(el("td", "state"));
    const td = el("td");
    const p = el("div", "progress");
    p.setAttribute("role", "progressbar");
    p.appendChild(el("div", "bar"));
    p.appendChild(el("div", "label"));
    td.appendChild(p);
    tr.appendChild(td);
    for (const c of ["maps num", "reduces num", "submitted", "duration num", "dataset"]) tr.appendChild(el("td", c));
    tr.addEventListener("click", () => select(j.id, true));
    return tr;
  }, (tr, j) => {
    tr.dataset.job = j.id;
    tr.className = "state-" + j.state + (j.id === state.selected ? " selected" : "");
    setText(tr.querySelector(".id"), j.id);
    const waits = j.waitingFor || [];
    setText(tr.querySelector(".state"), j.state + (waits.length ? " (waiting)" : ""));
    tr.querySelector(".state").title = waits.map(waitingText).join("\n");
    tr.dataset.waiting = waits.map((w) => w.what).join(",");
    const f = fraction(j);
    const pct = Math.floor(f * 100);
    const p = tr.querySelector(".progress");
    p.dataset.value = String(pct);
    p.setAttribute("aria-valuenow", String(pct));
    p.querySelector(".bar").style.width = pct + "%";
    setText(p.querySelector(".label"), pct + "%");
    setText(tr.querySelector(".maps"), `${j.mapsDone}/${j.mapsTotal}`);
    setText(tr.querySelector(".reduces"), `${j.reducesDone}/${j.reducesTotal}`);
    setText(tr.querySelector(".submitted"), fmtDateTime(j.submittedAt));
    setText(tr.querySelector(".duration"), fmtSeconds(j.durationSeconds));
    setText(tr.querySelector(".dataset"), j.datasetId || "");
    tr.title = j.error ? "error: " + j.error : "";
  });
}

function select(id, pinned) {
  if (state.selected !== id) {
    state.selected = id;
    state.detail = null;
    state.attempts = [];
    state.openLogs.clear();
    setText($("#detail-message"), "");
    setText($("#detail-id"), id);
    for (const tr of document.querySelectorAll("#jobs tbody tr")) tr.classList.toggle("selected", tr.dataset.job === id);
  }
  state.pinned = state.pinned || pinned;
  if (pinned) history.replaceState(null, "", "#job=" + encodeURIComponent(id));
  if (pinned) poll(); // the person clicked: show it now, not at the next tick
}

function chooseJob(jobs) {
  if (state.selected && jobs.some((j) => j.id === state.selected) && (state.pinned || jobs.find((j) => j.id === state.selected).state === "running")) return;
  if (state.pinned && state.selected) return; // a pinned job not in the list (yet): keep asking for it
  const running = jobs.find((j) => j.state === "running");
  const pick = running || jobs[0];
  if (pick && pick.id !== state.selected) select(pick.id, false);
}

// ---- detail ----

function renderDetail(d, attempts) {
  $("#detail").hidden = false;
  $("#detail").dataset.job = d.id;
  setText($("#detail-id"), d.id);
  const badge = $("#detail-state");
  setText(badge, d.state);
  badge.className = "badge state-" + d.state;
  const cancel = $("#cancel");
  cancel.disabled = d.state !== "running";
  cancel.title = d.state === "running" ? "POST /api/jobs/" + d.id + "/cancel" : "the job has ended";
  const parts = [`maps ${d.mapsDone}/${d.mapsTotal}`, `reduces ${d.reducesDone}/${d.reducesTotal}`];
  if (d.submittedAt) parts.push("submitted " + fmtDateTime(d.submittedAt));
  if (d.finishedAt) parts.push("finished " + fmtDateTime(d.finishedAt));
  if (d.durationSeconds !== null && d.durationSeconds !== undefined) parts.push("took " + fmtSeconds(d.durationSeconds));
  if (d.datasetId) parts.push("dataset " + d.datasetId);
  if (d.codeId) parts.push("code " + d.codeId);
  if (d.resultDatasetId) parts.push("result " + d.resultDatasetId);
  setText($("#detail-summary"), parts.join(" · "));
  const waits = d.state === "running" ? d.waitingFor || [] : [];
  const waiting = $("#detail-waiting");
  waiting.hidden = waits.length === 0;
  setText(waiting, waits.map(waitingText).join("\n"));
  const err = $("#detail-error");
  err.hidden = !d.error;
  setText(err, d.error ? "error: " + d.error : "");

  renderTimeline(d, attempts);
  renderCounters(d.counters || {});
  renderPartitions(d.partitionBytes || []);
  renderFailures(attempts);
}

function renderTimeline(d, attempts) {
  const root = $("#timeline");
  $("#no-attempts").hidden = attempts.length > 0;
  root.hidden = attempts.length === 0;
  const now = Date.now();
  const time = parseTime;
  let t0 = Infinity, t1 = -Infinity;
  for (const a of attempts) {
    const s = time(a.startedAt), e = time(a.endedAt);
    if (!isNaN(s)) { t0 = Math.min(t0, s); t1 = Math.max(t1, s); }
    if (!isNaN(e)) t1 = Math.max(t1, e);
  }
  // From submission, so time spent waiting for a slot shows as the gap before the first bar.
  const submitted = time(d.submittedAt);
  if (!isNaN(submitted) && isFinite(t0)) t0 = Math.min(t0, submitted);
  if (d.state === "running" || attempts.some((a) => a.state === "running")) t1 = Math.max(t1, now);
  if (!isFinite(t0)) { t0 = now; t1 = now + 1000; }
  const span = Math.max(t1 - t0, 1000);
  const pos = (t) => ((t - t0) / span) * 100;

  // Axis: about six ticks at a round number of seconds.
  const secs = span / 1000;
  const step = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].find((s) => secs / s <= 6) || 3600;
  const ticks = [];
  for (let s = 0; s <= secs * 0.95; s += step) ticks.push(s); // none at the very edge, where its label would be cut
  keyed(root.querySelector(".axis"), ticks, (s) => s, () => el("div", "tick"), (n, s) => {
    n.style.left = pos(t0 + s * 1000) + "%";
    setText(n, s + " s");
  });

  const byWorker = state.lanes === "worker";
  const laneOf = (a) => (byWorker ? a.worker || "?" : a.task);
  const lanes = new Map();
  for (const a of attempts) {
    const k = laneOf(a);
    if (!lanes.has(k)) lanes.set(k, []);
    lanes.get(k).push(a);
  }
  const names = [...lanes.keys()].sort((a, b) => (byWorker ? shortWorker(a).localeCompare(shortWorker(b)) : a.localeCompare(b)));
  keyed(root.querySelector(".lanes"), names.map((n) => ({ n, list: lanes.get(n) })), (l) => (byWorker ? "w:" : "t:") + l.n, () => {
    const lane = el("div", "lane");
    lane.appendChild(el("div", "lane-name"));
    lane.appendChild(el("div", "lane-track"));
    return lane;
  }, (lane, l) => {
    lane.dataset.lane = l.n;
    const name = lane.querySelector(".lane-name");
    setText(name, byWorker ? shortWorker(l.n) : l.n);
    name.title = l.n;
    const list = [...l.list].sort((a, b) => (a.startedAt || "").localeCompare(b.startedAt || ""));
    const endOf = (a) => {
      const s = time(a.startedAt);
      return isNaN(time(a.endedAt)) ? (a.state === "running" ? Math.max(now, s) : s) : time(a.endedAt);
    };
    // A worker runs several attempts at once (slots): overlapping bars go on rows of their own.
    const rowEnds = [], rowOf = new Map();
    for (const a of list) {
      let r = rowEnds.findIndex((end) => end <= time(a.startedAt));
      if (r < 0) { r = rowEnds.length; rowEnds.push(0); }
      rowEnds[r] = endOf(a);
      rowOf.set(a.attempt, r);
    }
    lane.style.height = Math.max(rowEnds.length, 1) * 20 + "px";
    keyed(lane.querySelector(".lane-track"), list, (a) => a.attempt, () => el("div", "attempt"), (bar, a) => {
      const s = time(a.startedAt);
      const e = endOf(a);
      bar.style.top = rowOf.get(a.attempt) * 20 + 2 + "px";
      bar.className = "attempt " + attemptClass(a.state);
      bar.dataset.attempt = a.attempt;
      bar.dataset.worker = a.worker || "";
      bar.dataset.state = a.state;
      bar.style.left = pos(s) + "%";
      bar.style.width = Math.max(pos(e) - pos(s), 0) + "%";
      setText(bar, byWorker ? a.attempt : shortWorker(a.worker));
      const secsTaken = a.seconds ?? (isNaN(e - s) ? null : (e - s) / 1000);
      bar.title = [
        `attempt ${a.attempt} (${a.kind})`,
        `worker ${a.worker || "?"}`,
        `state ${a.state}`,
        `started ${fmtTime(a.startedAt)}` + (a.endedAt ? `, ended ${fmtTime(a.endedAt)}` : ""),
        `${fmtSeconds(secsTaken)}${a.state === "running" ? " so far" : ""}`,
        a.error ? "error: " + a.error : "",
      ].filter(Boolean).join("\n");
    });
  });
}

function renderCounters(counters) {
  const rows = Object.entries(counters).sort((a, b) => a[0].localeCompare(b[0]));
  $("#no-counters").hidden = rows.length > 0;
  keyed($("#counters tbody"), rows, (r) => r[0], () => {
    const tr = el("tr");
    tr.appendChild(el("td", "name"));
    tr.appendChild(el("td", "value num"));
    return tr;
  }, (tr, [name, value]) => {
    tr.dataset.counter = name;
    setText(tr.querySelector(".name"), name);
    const v = tr.querySelector(".value");
    v.dataset.value = String(value);
    setText(v, typeof value === "number" ? value.toLocaleString("en-US") : String(value));
  });
}

function renderPartitions(bytes) {
  const root = $("#partitions");
  root.hidden = bytes.length === 0;
  const max = Math.max(1, ...bytes);
  keyed(root, bytes.map((b, i) => ({ b, i })), (p) => p.i, () => {
    const bar = el("div", "bar");
    bar.appendChild(el("span"));
    return bar;
  }, (bar, p) => {
    bar.dataset.partition = String(p.i);
    bar.dataset.bytes = String(p.b);
    bar.style.height = Math.max((p.b / max) * 100, 0.5) + "%";
    bar.title = `partition ${p.i}: ${fmtBytes(p.b)} (${p.b} bytes)`;
    setText(bar.firstChild, String(p.i));
  });
  if (bytes.length === 0) setText($("#skew"), "No partition sizes yet (known once reduces finish).");
  else {
    const mean = bytes.reduce((s, b) => s + b, 0) / bytes.length;
    setText($("#skew"), `${bytes.length} partitions, ${fmtBytes(Math.min(...bytes))} to ${fmtBytes(Math.max(...bytes))}; largest / mean = ${(mean > 0 ? Math.max(...bytes) / mean : 0).toFixed(2)}`);
  }
}

function renderFailures(attempts) {
  const failed = attempts.filter((a) => a.state !== "running" && a.state !== "succeeded")
    .sort((a, b) => (a.startedAt || "").localeCompare(b.startedAt || ""));
  $("#no-failures").hidden = failed.length > 0;
  keyed($("#failures"), failed, (a) => a.attempt, (a) => {
    const li = el("li", "failure");
    li.appendChild(el("b", "attempt"));
    li.appendChild(el("span", "where"));
    li.appendChild(document.createTextNode(" "));
    const btn = el("button", "log-toggle", "log");
    btn.type = "button";
    // Read at click time: attempt ids repeat across jobs, so this node may be reused for another job.
    btn.addEventListener("click", () => toggleLog(state.selected, li.dataset.attempt, li.dataset.task));
    li.appendChild(btn);
    li.appendChild(el("span", "error"));
    const pre = el("pre", "log");
    pre.hidden = true;
    li.appendChild(pre);
    return li;
  }, (li, a) => {
    li.dataset.attempt = a.attempt;
    li.dataset.task = a.task;
    setText(li.querySelector(".attempt"), a.attempt);
    setText(li.querySelector(".where"), ` ${a.state} on ${a.worker || "?"} at ${fmtTime(a.startedAt)}, after ${fmtSeconds(a.seconds)}`);
    setText(li.querySelector(".error"), a.error || "(no message)");
    const pre = li.querySelector(".log");
    const text = state.openLogs.get(a.attempt);
    pre.hidden = text === undefined;
    if (text !== undefined) setText(pre, text);
    setText(li.querySelector(".log-toggle"), text === undefined ? "log" : "hide log");
  });
}

async function toggleLog(jobId, attempt, task) {
  if (state.openLogs.has(attempt)) state.openLogs.delete(attempt);
  else {
    state.openLogs.set(attempt, "loading…");
    if (state.detail) renderFailures(state.attempts);
    try {
      const logs = await api(`/api/jobs/${encodeURIComponent(jobId)}/logs?task=${encodeURIComponent(task)}`);
      const mine = (logs || []).filter((l) => l.attempt === attempt);
      const shown = mine.length > 0 ? mine : logs || [];
      if (jobId !== state.selected) return;
      state.openLogs.set(attempt, shown.map((l) => (shown.length > 1 ? `--- ${l.attempt} on ${l.worker}\n` : "") + (l.log || "(empty log)")).join("\n") || "(no log kept for this attempt)");
    } catch (e) {
      if (jobId !== state.selected) return;
      state.openLogs.set(attempt, "could not load the log: " + e.message);
    }
  }
  if (state.detail && state.detail.id === jobId) renderFailures(state.attempts);
}

async function cancelSelected() {
  const id = state.selected;
  if (!id) return;
  const btn = $("#cancel");
  btn.disabled = true;
  try {
    const p = await api(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" });
    setText($("#detail-message"), `cancel requested: the job is ${p.state}`);
    if (state.detail && state.detail.id === id) {
      Object.assign(state.detail, normDetail(p));
      renderDetail(state.detail, state.attempts);
    }
    const row = document.querySelector(`#jobs tr[data-job="${CSS.escape(id)}"]`);
    if (row) { setText(row.querySelector(".state"), p.state); row.className = "state-" + p.state + " selected"; }
  } catch (e) {
    setText($("#detail-message"), "cancel failed: " + e.message);
    btn.disabled = false;
  }
}

// ---- polling ----

let timer = null;
let polling = false;

async function poll() {
  if (polling) return;
  polling = true;
  clearTimeout(timer);
  const problems = [];
  try {
    const [cluster, jobs] = await Promise.allSettled([api("/api/cluster"), api("/api/jobs")]);
    if (cluster.status === "fulfilled") renderCluster(cluster.value); else problems.push(cluster.reason);
    if (jobs.status === "fulfilled") {
      renderJobs(jobs.value || []);
      chooseJob(jobs.value || []);
    } else problems.push(jobs.reason);

    const id = state.selected;
    if (id) {
      const base = `/api/jobs/${encodeURIComponent(id)}`;
      const [detail, attempts] = await Promise.allSettled([api(base), api(base + "/attempts")]);
      if (id === state.selected) {
        if (detail.status === "fulfilled") state.detail = normDetail(detail.value); else if (detail.reason.status !== 404) problems.push(detail.reason);
        if (attempts.status === "fulfilled") state.attempts = (attempts.value || []).map(normAttempt); else if (attempts.reason.status !== 404) problems.push(attempts.reason);
        if (detail.status === "rejected" && detail.reason.status === 404) setText($("#detail-message"), `job ${id} is not in the catalog (yet)`);
        if (state.detail) renderDetail(state.detail, state.attempts);
      }
    }
  } catch (e) {
    problems.push(e); // a bug in a render must not stop the polling either
    console.error(e);
  } finally {
    const serious = problems.find((p) => !(p instanceof HttpError) || p.status === 0 || p.status >= 500) || problems[0];
    showNotice(serious ? `master unavailable, retrying (${serious.message})` : null);
    if (!serious) setText($("#updated"), "updated " + new Date().toLocaleTimeString([], { hour12: false }));
    polling = false;
    timer = setTimeout(poll, POLL_MS);
  }
}

function start() {
  takeTokenFromAddress();
  const m = /job=([^&]+)/.exec(location.hash);
  if (m) { state.selected = decodeURIComponent(m[1]); state.pinned = true; }
  $("#cancel").addEventListener("click", cancelSelected);
  for (const r of document.querySelectorAll('input[name="lanes"]')) {
    r.addEventListener("change", () => {
      state.lanes = r.value;
      if (state.detail) renderTimeline(state.detail, state.attempts);
    });
  }
  poll();
}

start();
