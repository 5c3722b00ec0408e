import Hummingbird

/// The application profile configuration page: plain HTML and script that reads the
/// admin token from `#token=` and calls the admin API. No authentication of its own:
/// it holds no data until the script calls the API with the token.
enum ConfigurationPage {
    static func register(on router: Router<ServerRequestContext>) {
        router.get("config") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    // The token lives in the fragment; keep it out of Referer headers.
                    .init("Referrer-Policy")!: "no-referrer",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        }
    }

    static let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>mmserver</title></head>
        <body><h1>mmserver</h1><p>Application profile configuration page: coming soon.</p></body></html>
        """
}
