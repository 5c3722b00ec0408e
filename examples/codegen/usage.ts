// Compiled by CodegenTests next to the generated mmcore.d.ts (tsc --noEmit --strict): the
// declarations must type a wrapper's calls, events and errors, and refuse wrong ones.
import type {
  Inbox, MobileMessagingClientRequests, MobileMessagingEvent, MobileMessagingMethods, MobileMessagingRpcError, UserData,
} from './mmcore';

type Method = keyof MobileMessagingMethods;
declare function call<M extends Method>(method: M, ...params: MobileMessagingMethods[M]['params']): Promise<MobileMessagingMethods[M]['result']>;
declare function callByName<M extends Method>(method: M, params: MobileMessagingMethods[M]['paramsByName']): Promise<MobileMessagingMethods[M]['result']>;
declare function onEvent(handler: (event: MobileMessagingEvent) => void): void;
declare function provideToken(handler: (params: MobileMessagingClientRequests['requestUserDataJwt']['params']) =>
  Promise<MobileMessagingClientRequests['requestUserDataJwt']['result']>): void;

async function session(): Promise<string | undefined> {
  await call('init', { applicationCode: 'app', backendBaseURL: 'http://127.0.0.1:8080', ios: { logging: true } });
  await call('setUserDataJwt', null);
  const user: UserData = await call('saveUser', { firstName: 'Ada', gender: 'Female', customAttributes: { level: 3, vip: true } });
  const installations = await call('setInstallationAsPrimary', 'reg-id', true);
  const status: 'success' | 'pending' = await call('depersonalize');
  await callByName('personalize', { context: { userIdentity: { externalUserId: 'ada' } } });
  const local = await call('getUser');
  // @ts-expect-error: gender is "Male" | "Female"
  await call('saveUser', { gender: 'Other' });
  // @ts-expect-error: setInstallationAsPrimary takes (pushRegistrationId, primary)
  await call('setInstallationAsPrimary', 'reg-id');
  // @ts-expect-error: not a method
  await call('saveUsers', {});
  // The inbox: its own token, the plugins' filter options (or Flutter's JSON text of them).
  const inbox: Inbox = await call('fetchInboxMessages', 'inbox-token', 'ada', { topics: ['promotions'], limit: 10 });
  await call('fetchInboxMessagesWithoutToken', 'ada', '{"topic":"news"}');
  const seen: string[] = await call('setInboxMessagesSeen', 'ada', inbox.messages.filter((m) => !m.seen).map((m) => m.messageId));
  const unread: number | undefined = inbox.countUnreadFiltered;
  void seen; void unread;
  // @ts-expect-error: limit is a number
  await call('fetchInboxMessagesWithoutToken', 'ada', { limit: '10' });
  // Custom events: every property kind the plugins send; the answer is null.
  const accepted: null = await call('submitEvent', {
    definitionId: 'purchase',
    properties: { item: 'book', price: 12.5, gift: true, deliveredOn: '2024-03-01', lines: [{ sku: 'b-1', count: 1 }] },
  });
  await callByName('submitEventImmediately', { event: { definitionId: 'purchase' } });
  // @ts-expect-error: a property is a string, number, boolean or list of objects, not an object
  await call('submitEvent', { definitionId: 'purchase', properties: { nested: { a: 1 } } });
  // @ts-expect-error: definitionId is required
  await call('submitEvent', { properties: {} });
  void accepted;
  // getUser answers {} when there is no user, never null (the Flutter plugin decodes it unchecked).
  const alwaysAnObject: UserData = await call('getUser');
  void alwaysAnObject; void status;
  return (local?.externalUserId ?? undefined) || installations[0]?.pushRegistrationId || user.firstName || undefined;
}

onEvent((event) => {
  switch (event.eventName) {
    case 'registrationUpdated': { const id: string = event.payload; void id; break; }
    case 'userUpdated': { const user: UserData = event.payload; void user; break; }
    case 'authenticationError': { const code: string = event.payload.code; void code; break; }
    case 'depersonalized': { const nothing: null = event.payload; void nothing; break; }
    case 'customEventsDropped': { const dropped: number = event.payload.count; void dropped; break; }
    default: break;
  }
});

provideToken(async ({ reason, externalUserId }) => (reason === 'missing' && externalUserId ? 'token' : null));

function describe(error: MobileMessagingRpcError): string {
  switch (error.data.code) {
    case 'JWT_TOKEN_EXPIRED': return 'expired';
    case 'JWT_TOKEN_SUBJECT_MISMATCH': return 'an inbox token of another person';
    case 'ACCESS_TOKEN_MISSING': return `server said ${error.data.description} (${error.data.httpStatus ?? 0})`;
    default: return `${error.code} ${error.data.domain}`;
  }
}

void session; void describe;
