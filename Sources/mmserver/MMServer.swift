import ArgumentParser
import Foundation
import MobileAPIServer

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `mmserver`: the local Mobile API (`docs/mmserver.md`).
@main
struct MMServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmserver",
        abstract: "A local Mobile API server with the user-data authorization settings, for development and tests.",
        subcommands: [Serve.self, MintToken.self, App.self]
    )
}

// MARK: - serve

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Mobile API, the admin API and the configuration page.",
        discussion: """
            The first line on stdout is the base URL (with the port the system picked for --port 0), \
            then the admin token if one was generated, then the configuration page's URL. \
            Logs go to stderr. SIGTERM or SIGINT stop the server.
            """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 0
    @Option(help: "SQLite database file (default: mmserver.sqlite in the current directory).") var db: String?
    @Flag(help: "Keep everything in memory: nothing survives the process.") var inMemory = false
    @Option(help: "Admin API token (else MMSERVER_ADMIN_TOKEN, else a random one is generated and printed).")
    var adminToken: String?
    @Option(help: "Log level on stderr: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func validate() throws {
        if inMemory && db != nil { throw ValidationError("Give either --db PATH or --in-memory, not both.") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535.") }
        if let adminToken, adminToken.isEmpty { throw ValidationError("--admin-token must not be empty.") }
    }

    func run() async throws {
        guard MobileAPIServer.bootstrapLogging(level: logLevel) else {
            throw ValidationError("Unknown --log-level \(logLevel).")
        }
        let environmentToken = ProcessInfo.processInfo.environment["MMSERVER_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let givenToken = adminToken ?? environmentToken
        let token = givenToken ?? MobileAPIServer.randomAdminToken()
        let database: DatabaseLocation = inMemory ? .inMemory : .file(db ?? "mmserver.sqlite")
        let server = try MobileAPIServer(
            configuration: .init(host: host, port: port, database: database, adminToken: token))
        let host = self.host
        let printToken = givenToken == nil
        let app = server.makeApplication { port in
            let base = "http://\(Self.urlHost(host)):\(port)"
            var lines = [base]
            if printToken { lines.append("admin token: \(token)") }
            lines.append("configuration page: \(base)/config#token=\(token)")
            // Written straight to the descriptor: stdio's stdout to a pipe is block-buffered,
            // and whoever started us is waiting for these lines.
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        try await app.runService()
    }

    /// The host as it goes in a URL: the wildcard address is reached on loopback, and
    /// IPv6 literals take brackets.
    static func urlHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::": "[::1]"
        default: host.contains(":") ? "[\(host)]" : host
        }
    }
}

// MARK: - jwt

struct MintToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwt",
        abstract: "Print a signed user-data JWT, as an app's backend would mint it (offline)."
    )

    @Option(help: "The key id (kid) of an application key.") var kid: String
    @Option(help: "The key's secret, as hex.") var secret: String
    @Option(help: "The application code (infobip-api-key and iss claims).") var applicationCode: String
    @Option(help: "The external user id (sub claim).") var sub: String
    @Option(help: "Seconds from iat to exp.") var lifetime = 60
    @Option(help: "Seconds added to the current time for iat (negative for the past).") var iatOffset = 0

    func run() throws {
        let issuedAt = Date().addingTimeInterval(TimeInterval(iatOffset))
        do {
            print(
                try UserDataToken.mint(
                    keyId: kid, secretHex: secret, applicationCode: applicationCode, subject: sub, lifetime: lifetime,
                    issuedAt: issuedAt))
        } catch {
            throw ValidationError("--secret: \(error.description)")
        }
    }
}

// MARK: - app

struct App: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage application profiles of a running server.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an application profile and a key; print {applicationCode, keyId, secret} as JSON."
        )

        @Option(help: "Base URL of the server, as printed by serve.") var server: String
        @Option(help: "The server's admin token.") var adminToken: String
        @Option(help: "Application code (generated if absent).") var code: String?
        @Option(help: "ALLOW_ALL, JWT_ONLY or DISALLOW_ALL.") var authorization = "ALLOW_ALL"

        func run() async throws {
            var body: [String: String] = ["userDataAuthorization": authorization]
            if let code { body["code"] = code }
            let application = try await request("POST", "/admin/applications", body: body)
            guard let applicationCode = application["code"] as? String else {
                throw ValidationError("Unexpected answer from the server: \(application)")
            }
            let key = try await request("POST", "/admin/applications/\(applicationCode)/keys", body: [:])
            let output: [String: Any] = [
                "applicationCode": applicationCode, "keyId": key["keyId"] ?? "", "secret": key["secret"] ?? "",
            ]
            let data = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }

        func request(_ method: String, _ path: String, body: [String: String]) async throws -> [String: Any] {
            guard let url = URL(string: server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
                throw ValidationError("--server is not a URL: \(server)")
            }
            var request = URLRequest(url: url)
            request.httpMethod = method
            request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(status),
                let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            else {
                throw ValidationError("\(method) \(path) failed with HTTP \(status): \(String(decoding: data, as: UTF8.self))")
            }
            return object
        }
    }
}
