// The transport the Node wrapper examples share: spawn mmcore, speak JSON-RPC 2.0 one
// message per line over its stdio. Node's standard library only.
//
//   const { MMCoreTransport } = require('../node/mmcore-transport.js');
//   const core = new MMCoreTransport({ mmcore: '/path/to/mmcore', stateDir: '/tmp/state' });
//   core.onEvent(({ eventName, payload }) => ...);           // `event` notifications
//   core.handleRequest('requestUserDataJwt', async (params) => token);  // core -> wrapper
//   const user = await core.call('saveUser', [{ firstName: 'Ada' }]);  // rejects with MMCoreError
//   await core.close();                                       // EOF: mmcore persists and exits 0
'use strict';
const { spawn } = require('node:child_process');
const readline = require('node:readline');

/** An error response. `data` is what wrappers hand to apps: {code, description, domain, ...}. */
class MMCoreError extends Error {
  constructor(error) {
    const data = error.data || { code: String(error.code), description: error.message, domain: 'jsonrpc' };
    super(`${data.code}: ${data.description}`);
    this.name = 'MMCoreError';
    this.rpcCode = error.code;
    this.data = data;
  }
}

class MMCoreTransport {
  /**
   * @param {object} options
   * @param {string} options.mmcore  path of the mmcore executable (default $MMCORE_BIN or `mmcore` on PATH)
   * @param {string} [options.stateDir]  passed as --state-dir
   * @param {string[]} [options.args]  more command-line arguments
   * @param {(line: string) => void} [options.onStderr]  mmcore's log lines (default: dropped)
   */
  constructor({ mmcore = process.env.MMCORE_BIN || 'mmcore', stateDir, args = [], onStderr } = {}) {
    const argv = stateDir ? ['--state-dir', stateDir, ...args] : args;
    this.child = spawn(mmcore, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.nextId = 0;
    this.pending = new Map();
    this.eventHandlers = new Set();
    this.requestHandlers = new Map();
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(signal || code)));
    this.child.on('error', (error) => this.failAll(error));
    this.child.stdin.on('error', () => {}); // a dead child is reported through the pending calls
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.receive(line));
    readline.createInterface({ input: this.child.stderr }).on('line', (line) => onStderr && onStderr(line));
    this.child.stdout.on('close', () => this.failAll(new Error('mmcore closed its stdout')));
  }

  /** Sends a request; resolves with its result, rejects with an MMCoreError. */
  call(method, params) {
    const id = ++this.nextId;
    const message = { jsonrpc: '2.0', id, method };
    if (params !== undefined) message.params = params;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(message);
    });
  }

  /** Calls `handler({eventName, payload})` for every event; returns a function that unsubscribes. */
  onEvent(handler) {
    this.eventHandlers.add(handler);
    return () => this.eventHandlers.delete(handler);
  }

  /** Answers the core's own requests (`requestUserDataJwt`) with `handler(params)` (a value or a promise). */
  handleRequest(method, handler) {
    this.requestHandlers.set(method, handler);
  }

  /** Closes mmcore's stdin; resolves with its exit status once it has persisted its state and exited. */
  close() {
    this.child.stdin.end();
    return this.exited;
  }

  send(message) {
    this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  receive(line) {
    const message = JSON.parse(line); // mmcore writes nothing but JSON-RPC lines to stdout
    for (const item of Array.isArray(message) ? message : [message]) this.dispatch(item);
  }

  dispatch(message) {
    if (message.method === 'event' && message.id === undefined) {
      for (const handler of this.eventHandlers) handler(message.params);
    } else if (message.method !== undefined) {
      this.answer(message);
    } else {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (message.error) call.reject(new MMCoreError(message.error));
      else call.resolve(message.result);
    }
  }

  async answer({ id, method, params }) {
    const handler = this.requestHandlers.get(method);
    if (!handler) {
      this.send({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } });
      return;
    }
    try {
      const result = await handler(params);
      this.send({ jsonrpc: '2.0', id, result: result === undefined ? null : result });
    } catch (error) {
      this.send({ jsonrpc: '2.0', id, error: { code: -32603, message: String(error && error.message) } });
    }
  }

  failAll(error) {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

module.exports = { MMCoreTransport, MMCoreError };
