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

          <h2>Custom event definitions</h2>
          <p>An event names its definition by ID; with <code>validate=true</code> an event whose definition, property
          names or value types do not match is refused, without it the event is kept aside as invalid.</p>
          <details id="new-definition">
            <summary>New event definition</summary>
            <p>
              <input type="text" id="definition-id" data-testid="definition-id" placeholder="definition ID, e.g. purchase">
              <input type="text" id="definition-name" data-testid="definition-name" placeholder="name (the ID if empty)">
            </p>
            <table><thead><tr><th>Property name</th><th>Type</th><th></th></tr></thead><tbody id="definition-properties"></tbody></table>
            <p>
              <button id="add-property" data-testid="add-property">Add property</button>
              <button id="create-definition" data-testid="create-definition">Create definition</button>
            </p>
          </details>
          <table data-testid="definitions"><thead><tr><th>Definition ID</th><th>Name</th><th>Properties</th><th></th></tr></thead><tbody id="definitions"></tbody></table>

          <h2>Custom events</h2>
          <p>
            <label>Person's external user ID (empty: everyone):
              <input type="text" id="events-person" data-testid="events-person"></label>
            <button id="load-events" data-testid="load-events">Show events</button>
          </p>
          <table data-testid="events"><thead><tr><th>Definition</th><th>Date</th><th>Person</th><th>Properties</th><th>State</th><th>Received</th></tr></thead><tbody id="events"></tbody></table>

          <h2>Inbox</h2>
          <p>
            <label>External user ID: <input type="text" id="inbox-user" data-testid="inbox-user"></label>
            <button id="load-inbox" data-testid="load-inbox">Show inbox</button>
          </p>
          <p>
            <input type="text" id="inbox-title" data-testid="inbox-title" placeholder="title">
            <input type="text" id="inbox-body" data-testid="inbox-body" placeholder="body">
            <input type="text" id="inbox-topic" data-testid="inbox-topic" placeholder="topic (default)">
          </p>
          <p><textarea id="inbox-payload" data-testid="inbox-payload" rows="3" cols="60" placeholder="custom payload: a JSON object (optional)"></textarea></p>
          <p><button id="put-inbox" data-testid="put-inbox">Put into inbox</button></p>
          <p id="inbox-counts" data-testid="inbox-counts"></p>
          <table data-testid="inbox"><thead><tr><th>Sent</th><th>Title</th><th>Body</th><th>Topic</th><th>Custom payload</th><th>Seen</th></tr></thead><tbody id="inbox"></tbody></table>
          <p><button id="refresh" data-testid="refresh">Refresh</button></p>
        </section>

        <script>
        \#(ConfigurationPageScript.source)
        </script>
        </body>
        </html>
        """#
}
