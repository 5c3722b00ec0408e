/// The configuration page's script: it reads the admin token from the URL fragment and
/// drives the admin API. It puts data into the page only as text (`textContent`), never
/// as markup, and builds every element with `createElement`.
enum ConfigurationPageScript {
    static let source = #"""
        'use strict';
        let token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
        const $ = (id) => document.getElementById(id);

        function show(message, kind) {
          const status = $('status');
          status.textContent = message;
          status.className = kind || '';
        }

        async function api(method, path, body) {
          const response = await fetch(path, {
            method,
            headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const text = await response.text();
          let data = null;
          try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
          if (!response.ok) {
            const error = data && data.requestError && data.requestError.serviceException;
            throw new Error(error ? error.messageId + ': ' + error.text : 'HTTP ' + response.status);
          }
          return data;
        }

        function cell(row, text, className) {
          const td = document.createElement('td');
          td.textContent = text === undefined || text === null ? '' : String(text);
          if (className) td.className = className;
          row.appendChild(td);
          return td;
        }

        function fill(tbody, items, render) {
          tbody.replaceChildren();
          for (const item of items) {
            const row = document.createElement('tr');
            render(row, item);
            tbody.appendChild(row);
          }
          if (items.length === 0) {
            const row = document.createElement('tr');
            cell(row, 'none yet').colSpan = 6;
            tbody.appendChild(row);
          }
        }

        const selected = () => $('application').value;
        const path = (suffix) => '/admin/applications/' + encodeURIComponent(selected()) + suffix;

        async function loadApplications(select) {
          const applications = await api('GET', '/admin/applications');
          const list = $('application');
          list.replaceChildren();
          for (const application of applications) {
            const option = document.createElement('option');
            option.value = application.code;
            option.textContent = application.name + ' (' + application.code + ')';
            list.appendChild(option);
          }
          if (select) list.value = select;
          await loadApplication();
        }

        async function loadApplication() {
          $('new-key').hidden = true;
          const has = selected() !== '';
          for (const id of ['settings', 'create-key']) $(id).hidden = !has;
          if (!has) {
            $('application-code').textContent = '';
            for (const id of ['keys', 'people', 'installations', 'definitions', 'events']) fill($(id), [], () => {});
            show('Create an application profile to begin.');
            return;
          }
          const application = await api('GET', path(''));
          $('application-code').textContent = application.code;
          for (const input of document.querySelectorAll('input[name=setting]')) {
            input.checked = input.value === application.userDataAuthorization;
          }
          await Promise.all([loadKeys(), loadPeople(), loadInstallations(), loadDefinitions(), loadEvents(), loadInbox()]);
        }

        async function loadKeys() {
          const keys = await api('GET', path('/keys'));
          fill($('keys'), keys, (row, key) => {
            row.dataset.keyId = key.keyId;
            cell(row, key.keyId, 'mono');
            cell(row, key.createdAt);
            cell(row, key.revoked ? 'revoked' : 'active');
            const td = cell(row, '');
            if (!key.revoked) {
              const button = document.createElement('button');
              button.textContent = 'Revoke';
              button.dataset.testid = 'revoke-' + key.keyId;
              button.addEventListener('click', () => run(async () => {
                await api('DELETE', path('/keys/' + encodeURIComponent(key.keyId)));
                await loadKeys();
                show('Key ' + key.keyId + ' revoked.', 'ok');
              }));
              td.appendChild(button);
            }
          });
        }

        async function loadPeople() {
          const people = await api('GET', path('/people'));
          fill($('people'), people, (row, person) => {
            cell(row, person.externalUserId || '(anonymous)', 'mono');
            cell(row, person.type);
            cell(row, [person.firstName, person.middleName, person.lastName].filter(Boolean).join(' '));
            cell(row, (person.emails || []).map((e) => e.address).join(', '));
            cell(row, (person.phones || []).map((p) => p.number).join(', '));
            cell(row, (person.instances || []).length);
          });
        }

        async function loadInstallations() {
          const installations = await api('GET', path('/installations'));
          fill($('installations'), installations, (row, installation) => {
            cell(row, installation.pushRegId, 'mono');
            cell(row, installation.externalUserId || '(anonymous)', 'mono');
            cell(row, [installation.os, installation.osVersion].filter(Boolean).join(' '));
            cell(row, installation.isPrimary ? 'yes' : '');
          });
        }

        const propertyTypes = ['string', 'number', 'boolean', 'date', 'list'];

        function addPropertyRow() {
          const row = document.createElement('tr');
          const name = document.createElement('input');
          name.type = 'text';
          name.placeholder = 'name';
          name.className = 'property-name';
          name.dataset.testid = 'property-name';
          const type = document.createElement('select');
          type.className = 'property-type';
          type.dataset.testid = 'property-type';
          for (const kind of propertyTypes) {
            const option = document.createElement('option');
            option.value = kind;
            option.textContent = kind === 'list' ? 'list (of objects)' : kind;
            type.appendChild(option);
          }
          const remove = document.createElement('button');
          remove.textContent = 'Remove';
          remove.addEventListener('click', () => row.remove());
          for (const element of [name, type, remove]) {
            const td = document.createElement('td');
            td.appendChild(element);
            row.appendChild(td);
          }
          $('definition-properties').appendChild(row);
        }

        async function loadDefinitions() {
          const definitions = await api('GET', path('/event-definitions'));
          fill($('definitions'), definitions, (row, definition) => {
            row.dataset.definitionId = definition.definitionId;
            cell(row, definition.definitionId, 'mono');
            cell(row, definition.name);
            cell(row, definition.properties.map((p) => p.name + ': ' + p.type).join(', '));
            const button = document.createElement('button');
            button.textContent = 'Delete';
            button.dataset.testid = 'delete-definition-' + definition.definitionId;
            button.addEventListener('click', () => run(async () => {
              await api('DELETE', path('/event-definitions/' + encodeURIComponent(definition.definitionId)));
              await loadDefinitions();
              show('Definition ' + definition.definitionId + ' deleted.', 'ok');
            }));
            cell(row, '').appendChild(button);
          });
        }

        async function loadEvents() {
          const person = $('events-person').value.trim();
          const events = await api('GET', person ? path('/people/' + encodeURIComponent(person) + '/events') : path('/events'));
          fill($('events'), events, (row, event) => {
            cell(row, event.definitionId, 'mono');
            cell(row, event.date);
            cell(row, event.externalUserId || '(anonymous ' + event.personId + ')', 'mono');
            cell(row, JSON.stringify(event.properties), 'mono');
            cell(row, event.valid ? 'valid' : 'invalid: ' + event.invalidReason, event.valid ? '' : 'error');
            cell(row, event.receivedAt);
          });
        }

        async function loadInbox() {
          const user = $('inbox-user').value.trim();
          if (!user) { $('inbox-counts').textContent = ''; fill($('inbox'), [], () => {}); return; }
          const inbox = await api('GET', path('/inbox/' + encodeURIComponent(user)));
          $('inbox-counts').textContent = inbox.countTotal + ' messages, ' + inbox.countUnread + ' unread';
          fill($('inbox'), inbox.messages, (row, message) => {
            row.dataset.messageId = message.messageId;
            cell(row, new Date(message.sentTimestamp).toISOString());
            cell(row, message.title);
            cell(row, message.body);
            cell(row, message.topic);
            cell(row, JSON.stringify(message.customPayload), 'mono');
            cell(row, message.seen ? 'seen' : '');
          });
        }

        async function run(action) {
          try { await action(); } catch (error) { show(error.message, 'error'); }
        }

        $('application').addEventListener('change', () => run(loadApplication));
        $('refresh').addEventListener('click', () => run(loadApplication));
        $('create-application').addEventListener('click', () => run(async () => {
          const body = {};
          if ($('new-code').value.trim()) body.code = $('new-code').value.trim();
          if ($('new-name').value.trim()) body.name = $('new-name').value.trim();
          const application = await api('POST', '/admin/applications', body);
          $('new-code').value = ''; $('new-name').value = '';
          await loadApplications(application.code);
          show('Application ' + application.code + ' created.', 'ok');
        }));
        $('settings').addEventListener('submit', (event) => {
          event.preventDefault();
          run(async () => {
            const checked = document.querySelector('input[name=setting]:checked');
            if (!checked) return;
            const application = await api('PATCH', path(''), { userDataAuthorization: checked.value });
            show('Saved: ' + application.userDataAuthorization + '.', 'ok');
          });
        });
        $('create-key').addEventListener('click', () => run(async () => {
          const key = await api('POST', path('/keys'));
          $('new-key-id').textContent = key.keyId;
          $('new-key-secret').textContent = key.secret;
          await loadKeys();
          $('new-key').hidden = false;
          show('Key created.', 'ok');
        }));
        $('add-property').addEventListener('click', addPropertyRow);
        $('create-definition').addEventListener('click', () => run(async () => {
          const body = { definitionId: $('definition-id').value.trim(), properties: [] };
          if ($('definition-name').value.trim()) body.name = $('definition-name').value.trim();
          for (const row of $('definition-properties').children) {
            const name = row.querySelector('.property-name').value.trim();
            if (name) body.properties.push({ name, type: row.querySelector('.property-type').value });
          }
          const definition = await api('POST', path('/event-definitions'), body);
          $('definition-id').value = ''; $('definition-name').value = '';
          $('definition-properties').replaceChildren();
          await loadDefinitions();
          show('Definition ' + definition.definitionId + ' created.', 'ok');
        }));
        $('load-events').addEventListener('click', () => run(loadEvents));
        $('load-inbox').addEventListener('click', () => run(loadInbox));
        $('put-inbox').addEventListener('click', () => run(async () => {
          const user = $('inbox-user').value.trim();
          if (!user) throw new Error('Enter the external user ID whose inbox gets the message.');
          const body = { body: $('inbox-body').value };
          if ($('inbox-title').value.trim()) body.title = $('inbox-title').value.trim();
          if ($('inbox-topic').value.trim()) body.topic = $('inbox-topic').value.trim();
          const payload = $('inbox-payload').value.trim();
          if (payload) {
            try { body.customPayload = JSON.parse(payload); } catch (_) { throw new Error('The custom payload is not JSON.'); }
          }
          const message = await api('POST', path('/inbox/' + encodeURIComponent(user)), body);
          $('inbox-title').value = ''; $('inbox-body').value = ''; $('inbox-payload').value = '';
          await loadInbox();
          show('Message ' + message.messageId + ' put into the inbox of ' + user + '.', 'ok');
        }));
        $('token-button').addEventListener('click', () => {
          token = $('token-input').value.trim();
          start();
        });

        function start() {
          if (!token) { $('login').hidden = false; $('main').hidden = true; return; }
          run(async () => {
            try {
              await loadApplications();
            } catch (error) {
              $('login').hidden = false;
              $('main').hidden = true;
              throw error;
            }
            $('login').hidden = true;
            $('main').hidden = false;
          });
        }
        start();
        """#
}
