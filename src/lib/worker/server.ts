// The worker side of the protocol, independent of which engine it serves, so it is testable with any
// PlaygroundEngine over a MessageChannel. Arrays in token events and in analyse/generate results are transferred:
// the engine must not keep references to arrays it hands out there.
import { registerLocalFolder } from '../runtime/localFolder';
import type { LabEngine, PlaygroundEngine } from '../engine/api';
import { toWireError, transferables, type EngineReply, type EngineRequest, type NoticeSource, type Port } from './protocol';

export function serveEngine(port: Port, engine: () => Promise<PlaygroundEngine>): void {
  const reply = (message: EngineReply, transfer = false) =>
    port.postMessage(message, transfer ? transferables(message) : []);

  let subscribed = false;
  const subscribe = (e: PlaygroundEngine) => {
    if (subscribed) return;
    subscribed = true;
    const source = e as Partial<NoticeSource>;
    if (typeof source.onNotice === 'function') source.onNotice((notice) => reply({ id: 0, type: 'notice', notice }));
  };

  port.onmessage = async (event: MessageEvent) => {
    const request = event.data as EngineRequest;
    if (request.type === 'cancel') {
      (await engine()).cancel();
      return;
    }
    const id = request.id;
    try {
      const e = await engine();
      subscribe(e);
      let value: unknown;
      switch (request.type) {
        case 'loadModel':
          if (request.source.files) registerLocalFolder(request.source.baseUrl, request.source.files);
          value = await e.loadModel(request.source, {
            ...request.options,
            onProgress: (progress) => reply({ id, type: 'progress', progress }),
          });
          break;
        case 'loadSae':
          if (request.files) registerLocalFolder(request.baseUrl, request.files);
          value = await e.loadSae(request.baseUrl, (progress) => reply({ id, type: 'progress', progress }));
          break;
        case 'personas':
          value = await e.personas();
          break;
        case 'definePersona':
          value = await e.definePersona(request.persona);
          break;
        case 'removePersona':
          value = await e.removePersona(request.personaId);
          break;
        case 'analyse':
          value = await e.analyse(request.prompt, request.topK, request.mode);
          break;
        case 'generate':
          value = await e.generate(request.request, (tokenEvent) => reply({ id, type: 'token', event: tokenEvent }, true));
          break;
        case 'textStats': {
          const lab = e as Partial<LabEngine>;
          if (typeof lab.textStats !== 'function') throw Object.assign(new Error('This engine cannot run the lab (no textStats).'), { name: 'EngineUnavailableError' });
          value = await lab.textStats.call(e, request.texts, request.options, (progress) => reply({ id, type: 'progress', progress }));
          break;
        }
        case 'dispose':
          value = await e.dispose();
          break;
      }
      // Analyses and generation results are fresh per call, so their arrays move; stored data (personas) is copied.
      reply({ id, type: 'result', value }, request.type === 'analyse' || request.type === 'generate' || request.type === 'textStats');
    } catch (err) {
      reply({ id, type: 'error', error: toWireError(err) });
    }
  };
}
