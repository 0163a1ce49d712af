'use strict';
// The Sluice console: renders the fleet pushed by /api/events and writes through the JSON API.
// Every value is put on the page as text (never as HTML): node values are anyone's to write.

let current = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function since(instant) {
  if (!instant) return '-';
  return String(instant).replace(/\.\d+Z$/, 'Z').replace('T', ' ');
}

function badge(state) {
  return el('span', state, 'badge ' + state);
}

function button(label, cls, onClick) {
  const b = el('button', label, cls);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function toggleButton(kind, target, state) {
  const disable = state !== 'DISABLED';
  const b = button(disable ? 'Disable' : 'Enable', disable ? 'danger' : 'safe', () =>
    write(disable ? '/api/disable' : '/api/enable', { target },
      (disable ? 'Disable' : 'Enable') + ' ' + kind + ' ' + target + '?' +
      (disable ? (kind === 'instance'
        ? '\nThis application is cut off from every database at once.'
        : '\nEvery instance is cut off from this datasource at once.') : '')));
  b.dataset.action = disable ? 'disable' : 'enable';
  return b;
}

function fill(tableId, rows) {
  const body = document.querySelector('#' + tableId + ' tbody');
  body.replaceChildren(...rows);
  document.getElementById(tableId + '-count').textContent = '(' + rows.length + ')';
}

function row(cells, key, state) {
  const tr = document.createElement('tr');
  tr.dataset.key = key;
  if (state === 'DISABLED') tr.className = 'disabled';
  for (const c of cells) {
    const td = c instanceof Node && c.tagName === 'TD' ? c : el('td');
    if (c instanceof Node && c.tagName !== 'TD') td.append(c);
    else if (!(c instanceof Node)) td.textContent = c === null || c === undefined || c === '' ? '-' : String(c);
    tr.append(td);
  }
  return tr;
}

function lastAction(a) {
  if (!a) return '-';
  if (a.unreadable) return 'unreadable record';
  return a.action + ' at ' + since(a.at) + ' (' + a.reason + ')' + (a.acknowledged ? ', acknowledged' : '');
}

function render(s) {
  current = s;
  document.getElementById('registry').textContent = s.registry + ' (' + s.layout + ' layout)';

  fill('instances', s.instances.map(i => {
    const id = el('td', i.id, 'id');
    return row([id, i.app, i.host, i.pid, since(i.startedAt), i.open, badge(i.state),
      toggleButton('instance', i.id, i.state)], i.id, i.state);
  }));

  fill('datasources', s.datasources.map(d => {
    const name = d.schema + '/' + d.name;
    const actions = el('span');
    actions.append(toggleButton('datasource', name, d.state));
    if (d.lastAction && !d.lastAction.acknowledged && !d.lastAction.unreadable) {
      const ack = button('Acknowledge', 'safe', () => write('/api/recovery',
        { action: 'ack', datasource: name },
        'Acknowledge the leader\'s last action on ' + name + '?\nIt may act on it again at once.'));
      ack.dataset.action = 'ack';
      actions.append(' ', ack);
    }
    return row([el('td', name, 'id'), d.endpoint, d.open, lastAction(d.lastAction), badge(d.state), actions],
      name, d.state);
  }));

  fill('groups', s.groups.map(g => {
    const cells = [el('td', g.name, 'id'),
      (g.primary || 'unknown') + (g.agreed === false ? ' (instances disagree)' : ''),
      g.primarySource + ' ' + (g.key || ''),
      (g.replicas && g.replicas.length) ? g.replicas.join(' ') : '-'];
    if (g.primarySource === 'node') {
      const set = button('Set primary', 'danger', () => {
        const primary = window.prompt('New primary of group ' + g.name + ' (host:port):', g.primary || '');
        if (primary === null || primary.trim() === '') return;
        write('/api/primary', { group: g.name, primary: primary.trim() },
          'Make ' + primary.trim() + ' the primary of group ' + g.name + '?\n' +
          'Every instance routes new connections there and aborts those to ' + (g.primary || 'the old one') + '.');
      });
      set.dataset.action = 'primary';
      cells.push(set);
    } else {
      cells.push('');
    }
    return row(cells, g.name);
  }));

  const r = s.recovery;
  const state = document.getElementById('recovery-state');
  state.textContent = r.state;
  state.className = 'badge ' + r.state;
  document.getElementById('recovery-path').textContent = r.path + (r.value === null ? ' (absent)' : '');
  const toggle = document.getElementById('recovery-toggle');
  const off = r.state === 'DISABLED';
  toggle.textContent = off ? 'Enable automatic recovery' : 'Disable automatic recovery';
  toggle.className = off ? 'safe' : 'danger';
  toggle.onclick = () => write('/api/recovery', { action: off ? 'enable' : 'disable' },
    (off ? 'Enable' : 'Disable') + ' automatic recovery for the whole fleet?');
  document.getElementById('leader').textContent = s.leader || 'none';
  document.getElementById('controllers').textContent =
    s.controllers.length ? 'controllers: ' + s.controllers.join(', ') : '';
}

function message(text, error) {
  const m = document.getElementById('message');
  m.textContent = text;
  m.className = error ? 'error' : '';
}

async function write(path, body, question) {
  if (!window.confirm(question)) return;
  try {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin'
    });
    const result = await response.json();
    if (response.ok) message('done: ' + (result.path ? result.path + ' = ' + JSON.stringify(result.value ?? result.primary ?? '') : 'ok'));
    else message(result.error || ('failed: HTTP ' + response.status), true);
  } catch (e) {
    message('failed: ' + e, true);
  }
}

function live() {
  const badge = document.getElementById('live');
  const events = new EventSource('api/events');
  events.onopen = () => { badge.textContent = 'live'; badge.className = 'badge on'; };
  events.onmessage = e => render(JSON.parse(e.data));
  events.onerror = () => { badge.textContent = 'reconnecting'; badge.className = 'badge off'; };
}

live();
