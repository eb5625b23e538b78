// NCALayer client for an official's page: a small, dependency-free ES module.
//
// Why our own: the service hands the page ready-made NCALayer messages (see
// signing/twophase.py, SignRequest.basics / .commonUtils); the page only has to deliver
// them to NCALayer on wss://127.0.0.1:13579 and return the answer, telling a cancelled
// dialog apart from a failure. NCALayer answers requests in order and without ids, so
// calls are queued: one request on the wire at a time.
//
//   import { NCALayerClient } from "/static/ncalayer-client.js";
//   const nca = new NCALayerClient();
//   await nca.connect();                       // resolves with NCALayer's version
//   const cms = await nca.send(request.basics); // PEM CMS / signed XML
//   ...catch (e) { if (e.cancelled) ...; else show(e.message); }

export const BASICS = "kz.gov.pki.knca.basics";
export const COMMON_UTILS = "kz.gov.pki.knca.commonUtils";
export const DEFAULT_URL = "wss://127.0.0.1:13579";
export const EKU_SIGN = "1.3.6.1.5.5.7.3.4";

/** Any failure talking to NCALayer; `cancelled` is true when the official closed the dialog. */
export class NCALayerError extends Error {
  constructor(message, { code = "", details = "", cancelled = false } = {}) {
    super(message);
    this.name = "NCALayerError";
    this.code = code;
    this.details = details;
    this.cancelled = cancelled;
  }
}

/** The official cancelled: not an error to report, nothing was signed. */
export class NCALayerCancelledError extends NCALayerError {
  constructor() {
    super("cancelled by user", { code: "CANCELLED", cancelled: true });
    this.name = "NCALayerCancelledError";
  }
}

/** Interpret one NCALayer answer: a result, or a thrown NCALayerError. */
export function parseResponse(response) {
  if (response === null || typeof response !== "object") {
    throw new NCALayerError("NCALayer sent something that is not a response");
  }
  if (Object.prototype.hasOwnProperty.call(response, "status")) {
    if (response.status !== true) {
      throw new NCALayerError(`${response.code}: ${response.message}`,
        { code: String(response.code || ""), details: response.details || "" });
    }
    const body = response.body || {};
    if (!Object.prototype.hasOwnProperty.call(body, "result")) {
      throw new NCALayerCancelledError();
    }
    return body.result;
  }
  if (response.code === "200") {
    return response.responseObject;
  }
  if (response.message === "action.canceled") {
    throw new NCALayerCancelledError();
  }
  throw new NCALayerError(`${response.code}: ${response.message}`, { code: String(response.code) });
}

function isSingle(message) {
  return message && message.module === BASICS && message.args
    && typeof message.args.data === "string";
}

export class NCALayerClient {
  /**
   * @param {string} [url] NCALayer's address.
   * @param {{timeoutMs?: number, connectTimeoutMs?: number}} [options] a signature waits for
   *   a human, so the call timeout is long; connecting is quick or NCALayer is not running.
   */
  constructor(url = DEFAULT_URL, { timeoutMs = 300000, connectTimeoutMs = 5000 } = {}) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.connectTimeoutMs = connectTimeoutMs;
    this.ws = null;
    this.version = null;
    this.pending = null; // {resolve, reject, timer} of the request on the wire
    this.queue = Promise.resolve();
  }

  /** Open the socket and wait for NCALayer's greeting; resolves with its version. */
  connect() {
    if (this.ws) {
      return Promise.resolve(this.version);
    }
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (e) {
        reject(new NCALayerError(`cannot connect to NCALayer: ${e.message}`));
        return;
      }
      const timer = setTimeout(() => {
        ws.close();
        reject(new NCALayerError("NCALayer did not answer: is it running?", { code: "TIMEOUT" }));
      }, this.connectTimeoutMs);
      ws.onerror = () => {
        clearTimeout(timer);
        this.ws = null;
        reject(new NCALayerError("cannot connect to NCALayer: is it installed and running?",
          { code: "CONNECT" }));
      };
      ws.onmessage = (event) => {
        clearTimeout(timer);
        let greeting;
        try {
          greeting = JSON.parse(event.data);
        } catch (e) {
          reject(new NCALayerError("NCALayer greeting is not JSON"));
          return;
        }
        if (!greeting || !greeting.result || typeof greeting.result.version !== "string") {
          reject(new NCALayerError("not an NCALayer greeting"));
          return;
        }
        this.ws = ws;
        this.version = greeting.result.version;
        ws.onmessage = (msg) => this.onMessage(msg);
        ws.onerror = () => this.fail(new NCALayerError("NCALayer connection error",
          { code: "CONNECTION" }));
        ws.onclose = (ev) => {
          this.ws = null;
          this.fail(new NCALayerError(`NCALayer closed the connection (${ev.code})`,
            { code: "CLOSED" }));
        };
        resolve(this.version);
      };
    });
  }

  close() {
    if (this.ws) {
      this.ws.close();
      this.ws = null;
    }
  }

  onMessage(event) {
    const call = this.pending;
    if (!call) {
      return; // unsolicited (heartbeat echo): nothing waits for it
    }
    this.pending = null;
    clearTimeout(call.timer);
    try {
      call.resolve(parseResponse(JSON.parse(event.data)));
    } catch (e) {
      call.reject(e instanceof NCALayerError ? e : new NCALayerError(`bad answer: ${e.message}`));
    }
  }

  fail(error) {
    const call = this.pending;
    this.pending = null;
    if (call) {
      clearTimeout(call.timer);
      call.reject(error);
    }
  }

  /**
   * Send one ready-made message ({module, method, args}) and resolve with its result.
   * Queued behind any call still waiting for the official. One document in, one result
   * out: basics answers XML as a one-element list even for a single document (real
   * NCALayer does), so that list is unwrapped.
   */
  send(message) {
    return this.sendRaw(message).then((result) => (isSingle(message) && Array.isArray(result)
      && result.length === 1 ? result[0] : result));
  }

  sendRaw(message) {
    const run = () => new Promise((resolve, reject) => {
      if (!this.ws) {
        reject(new NCALayerError("not connected to NCALayer", { code: "CONNECT" }));
        return;
      }
      const timer = setTimeout(() => {
        this.pending = null;
        reject(new NCALayerError("NCALayer did not answer in time", { code: "TIMEOUT" }));
      }, this.timeoutMs);
      this.pending = { resolve, reject, timer };
      this.ws.send(JSON.stringify(message));
    });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  // -- kz.gov.pki.knca.basics ------------------------------------------------------------

  /**
   * CMS over Base64 data (or a Base64 SHA-256 with digested: true); resolves with PEM.
   * @param {string|string[]} data
   */
  basicsSignCMS(data, { digested = false, encapsulate = false, tsa = false, storages = null,
    signerParams = { extKeyUsageOids: [EKU_SIGN] }, locale = "kk" } = {}) {
    const signingParams = { decode: true, encapsulate, digested };
    if (tsa) {
      signingParams.tsaProfile = {};
    }
    return this.send({ module: BASICS, method: "sign", args: {
      allowedStorages: storages, format: "cms", data, signingParams, signerParams, locale } });
  }

  /** Enveloped XMLDSig over an XML string (or a list); resolves with the signed XML. */
  basicsSignXML(xml, { storages = null, signerParams = { extKeyUsageOids: [EKU_SIGN] },
    locale = "kk" } = {}) {
    return this.send({ module: BASICS, method: "sign", args: {
      allowedStorages: storages, format: "xml", data: xml, signingParams: {}, signerParams,
      locale } });
  }

  // -- kz.gov.pki.knca.commonUtils (legacy) ----------------------------------------------

  getKeyInfo(storage = "PKCS12") {
    return this.send({ module: COMMON_UTILS, method: "getKeyInfo", args: [storage] });
  }

  /** Base64 DER CMS; pass an existing CMS as b64 to add a signer. */
  createCAdESFromBase64(b64, { attach = false, storage = "PKCS12", keyType = "SIGNATURE" } = {}) {
    return this.send({ module: COMMON_UTILS, method: "createCAdESFromBase64",
      args: [storage, keyType, b64, attach] });
  }

  createCAdESFromBase64Hash(b64Hash, { storage = "PKCS12", keyType = "SIGNATURE" } = {}) {
    return this.send({ module: COMMON_UTILS, method: "createCAdESFromBase64Hash",
      args: [storage, keyType, b64Hash] });
  }

  signXml(xml, { storage = "PKCS12", keyType = "SIGNATURE", tbsXPath = "", parentXPath = "" } = {}) {
    return this.send({ module: COMMON_UTILS, method: "signXml",
      args: [storage, keyType, xml, tbsXPath, parentXPath] });
  }

  signXmls(xmls, { storage = "PKCS12", keyType = "SIGNATURE", tbsXPath = "", parentXPath = "" } = {}) {
    return this.send({ module: COMMON_UTILS, method: "signXmls",
      args: [storage, keyType, xmls, tbsXPath, parentXPath] });
  }
}
