import Hummingbird

/// The application profile configuration page: one HTML document whose script reads the
/// admin token from the URL fragment (`/config#token=...`) and calls the admin API.
///
/// The page itself needs no authentication: it holds no data until its script calls the
/// API with the token, and the fragment never leaves the browser. Data is only ever put
/// into the page as text (`textContent`), never as markup.
enum ConfigurationPage {
    static func register(on router: Router<ServerRequestContext>) {
        router.get("config") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    .contentSecurityPolicy:
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                    // The token lives in the fragment; keep the page's URL out of Referer headers.
                    .init("Referrer-Policy")!: "no-referrer",
                    .cacheControl: "no-store",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        }
    }

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>mmserver: application profiles</title>
        <style>
          body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 62rem; padding: 1rem 1.5rem 3rem; color: #1d1d1f; }
          h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
          table { border-collapse: collapse; width: 100%; font-size: .9rem; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
          code, .mono { font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
          label.setting { display: block; border: 1px solid #ddd; border-radius: .4rem; padding: .6rem .8rem; margin: .5rem 0; cursor: pointer; }
          label.setting:has(input:checked) { border-color: #0a66c2; background: #f0f6fc; }
          label.setting span { display: block; color: #555; font-size: .9rem; margin-left: 1.5rem; }
          button { font: inherit; padding: .3rem .8rem; cursor: pointer; } input[type=text] { font: inherit; padding: .25rem .4rem; }
          #status { min-height: 1.5rem; } .error { color: #b00020; } .ok { color: #1b7f3b; }
          .secret { background: #fff8e1; border: 1px solid #f0c36d; padding: .6rem .8rem; border-radius: .4rem; }
          [hidden] { display: none !important; }
        </style>
        </head>
        <body>
        <h1>mmserver: application profile configuration</h1>
        <p id="status" role="status" data-testid="status"></p>

        <section id="login" hidden>
          <p>Open this page with the admin token in the fragment, as <code>mmserver serve</code> prints it
          (<code>/config#token=...</code>), or enter it here:</p>
          <input type="text" id="token-input" data-testid="token-input" size="50" autocomplete="off">
          <button id="token-button" data-testid="token-button">Use token</button>
        </section>

        <section id="main" hidden>
          <h2>Application profiles</h2>
          <p>
            <label>Application: <select id="application" data-testid="application-select"></select></label>
          </p>
          <details>
            <summary>New application profile</summary>
            <p>
              <input type="text" id="new-code" data-testid="new-code" placeholder="code (generated if empty)">
              <input type="text" id="new-name" data-testid="new-name" placeholder="name">
              <button id="create-application" data-testid="create-application">Create</button>
            </p>
          </details>
          <p>Application code: <code id="application-code" data-testid="application-code"></code></p>

          <h2>Security settings: user data authorization</h2>
          <form id="settings">
            <label class="setting"><input type="radio" name="setting" value="ALLOW_ALL" data-testid="setting-ALLOW_ALL">
              <b>Allow all mobile SDK requests</b>
              <span>The default. Every request the SDK makes is authorized with the application code.</span></label>
            <label class="setting"><input type="radio" name="setting" value="JWT_ONLY" data-testid="setting-JWT_ONLY">
              <b>Allow only mobile SDK requests with JSON Web Tokens (JWT) authorization</b>
              <span>Fetching and saving user data and personalization need a JWT signed with one of the keys below,
              for the person's external user ID. The external user ID then changes only through personalization.</span></label>
            <label class="setting"><input type="radio" name="setting" value="DISALLOW_ALL" data-testid="setting-DISALLOW_ALL">
              <b>Disallow all mobile SDK requests</b>
              <span>The SDK cannot read or change user data; person data changes only through the server-side
              Contact Information API.</span></label>
            <button type="submit" id="save-setting" data-testid="save-setting">Save setting</button>
          </form>

          <h2>Secret keys</h2>
          <p>Tokens are signed HS256 with a key's hex-decoded secret and name it with <code>kid</code>. Several keys can be
          active at once, so keys can be rotated; a revoked key is refused at once.</p>
          <button id="create-key" data-testid="create-key">Create key</button>
          <div id="new-key" class="secret" data-testid="new-key" hidden>
            <p>Copy the secret now: it is not shown again.</p>
            <p>Key ID: <code id="new-key-id" data-testid="new-key-id"></code><br>
               Secret: <code id="new-key-secret" data-testid="new-key-secret"></code></p>
          </div>
          <table data-testid="keys"><thead><tr><th>Key ID</th><th>Created</th><th>State</th><th></th></tr></thead><tbody id="keys"></tbody></table>

          <h2>People</h2>
          <table data-testid="people"><thead><tr><th>External user ID</th><th>Type</th><th>Name</th><th>Emails</th><th>Phones</th><th>Installations</th></tr></thead><tbody id="people"></tbody></table>

          <h2>Installations</h2>
          <table data-testid="installations"><thead><tr><th>Push registration ID</th><th>External user ID</th><th>OS</th><th>Primary</th></tr></thead><tbody id="installations"></tbody></table>
          <p><button id="refresh" data-testid="refresh">Refresh</button></p>
        </section>

        <script>
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
            for (const id of ['keys', 'people', 'installations']) fill($(id), [], () => {});
            show('Create an application profile to begin.');
            return;
          }
          const application = await api('GET', path(''));
          $('application-code').textContent = application.code;
          for (const input of document.querySelectorAll('input[name=setting]')) {
            input.checked = input.value === application.userDataAuthorization;
          }
          await Promise.all([loadKeys(), loadPeople(), loadInstallations()]);
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
        </script>
        </body>
        </html>
        """#
}
