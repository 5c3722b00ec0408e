/// The checks on `backendBaseURL` at `init` (`docs/contract/mobile-api.md`, "Talking to the
/// Mobile API"): a person's data and ids go only over https, to the host the app
/// configured.
///
/// Plain http is allowed for loopback hosts only (local development and tests against
/// `mmserver`). Credentials in the URL are refused, since they would be sent to the
/// server and could end up in logs. Refusals name the rule broken and never echo the URL.
enum BackendBaseURL {
    /// `url` without its trailing slashes, so paths can be appended.
    ///
    /// - Throws: `INVALID_CONFIGURATION` naming `backendBaseURL` and why.
    static func checked(_ url: String, field: String = "backendBaseURL") throws(MobileMessagingError) -> String {
        func refuse(_ reason: String) -> MobileMessagingError { .invalidConfiguration(field, reason) }

        guard !url.unicodeScalars.contains(where: { UntrustedText.isSpaceLike($0) }) else {
            throw refuse("must not contain spaces or control characters")
        }
        let lowered = url.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lowered.hasPrefix($0) }) else {
            throw refuse("must be an http or https URL")
        }
        guard url.utf8.allSatisfy({ $0 < 0x80 }) else {
            throw refuse("must be ASCII (use the punycode form of an international domain name)")
        }
        guard !url.contains("?"), !url.contains("#") else { throw refuse("must not have a query or a fragment") }

        let rest = url.utf8.dropFirst(scheme.utf8.count)
        let authority = rest.prefix { $0 != UInt8(ascii: "/") }
        let path = rest.dropFirst(authority.count)
        guard !authority.contains(UInt8(ascii: "@")) else { throw refuse("must not contain credentials (user:password@)") }

        let host: Host
        switch parseAuthority(Array(authority)) {
        case .success(let parsed): host = parsed
        case .failure(let problem): throw refuse(problem.rawValue)
        }
        guard path.allSatisfy(isPathByte), hasValidEscapes(Array(path)) else { throw refuse("has an invalid path") }
        if scheme == "http://" && !host.isLoopback {
            throw refuse("must use https (plain http is allowed only for a loopback host: 127.0.0.0/8, ::1 or localhost)")
        }

        var trimmed = Substring(url)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    // MARK: - Authority

    enum Problem: String, Error {
        case noHost = "has no host"
        case invalidIPv6 = "has an invalid IPv6 address"
        case invalidPort = "has an invalid port"
        case invalidHost = "has an invalid host"
    }

    enum Host: Equatable {
        case name(String)
        case ipv4([UInt8])
        case ipv6([UInt16])

        /// 127.0.0.0/8, ::1 (also as `::ffff:127.x.y.z`) and `localhost`: addresses that
        /// never leave the machine, so plain http there exposes nothing.
        var isLoopback: Bool {
            switch self {
            case .name(let name): name.lowercased() == "localhost"
            case .ipv4(let octets): octets[0] == 127
            case .ipv6(let groups):
                groups == [0, 0, 0, 0, 0, 0, 0, 1]
                    || (groups[0..<5].allSatisfy { $0 == 0 } && groups[5] == 0xFFFF && groups[6] >> 8 == 127)
            }
        }
    }

    /// `host[:port]` or `[ipv6][:port]`.
    static func parseAuthority(_ authority: [UInt8]) -> Result<Host, Problem> {
        var hostPart = authority[...]
        var portPart: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return .failure(.invalidIPv6) }
            hostPart = authority[1..<close]
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return .failure(.invalidIPv6) }
                portPart = after.dropFirst()
            }
            guard let groups = parseIPv6(String(decoding: hostPart, as: UTF8.self)) else { return .failure(.invalidIPv6) }
            if let portPart, !isValidPort(portPart) { return .failure(.invalidPort) }
            return .success(.ipv6(groups))
        }
        if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
            hostPart = authority[..<colon]
            portPart = authority[(colon + 1)...]
        }
        guard !hostPart.isEmpty else { return .failure(.noHost) }
        if let portPart, !isValidPort(portPart) { return .failure(.invalidPort) }
        let name = String(decoding: hostPart, as: UTF8.self)
        if let octets = parseIPv4(name) { return .success(.ipv4(octets)) }
        let labels = hostPart.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isHostByte) }) else { return .failure(.invalidHost) }
        return .success(.name(name))
    }

    static func isValidPort(_ digits: ArraySlice<UInt8>) -> Bool {
        guard (1...5).contains(digits.count), digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let port = Int(String(decoding: digits, as: UTF8.self))
        else { return false }
        return (1...65535).contains(port)
    }

    /// A dotted quad of four decimal octets, nothing shorter (`127.1` is a name here).
    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                let value = UInt8(part)
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// RFC 4291 text form: eight groups, one `::`, and an optional dotted quad at the end.
    static func parseIPv6(_ text: String) -> [UInt16]? {
        let halves = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring, last: Bool) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if last, index == pieces.count - 1, piece.contains("."), let octets = parseIPv4(String(piece)) {
                    result.append(UInt16(octets[0]) << 8 | UInt16(octets[1]))
                    result.append(UInt16(octets[2]) << 8 | UInt16(octets[3]))
                } else {
                    guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                    result.append(value)
                }
            }
            return result
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], last: true), all.count == 8 else { return nil }
            return all
        }
        guard let head = groups(halves[0], last: false), let tail = groups(halves[1], last: true), head.count + tail.count <= 7
        else { return nil }
        return head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    // MARK: - Characters

    static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// RFC 3986 `pchar` and `/`: unreserved, sub-delims, `:`, `@`, and `%` escapes.
    static func isPathByte(_ byte: UInt8) -> Bool {
        if isHostByte(byte) { return true }
        return "/.~!$&'()*+,;=:@%".utf8.contains(byte)
    }

    static func hasValidEscapes(_ path: [UInt8]) -> Bool {
        var index = 0
        while index < path.count {
            if path[index] == UInt8(ascii: "%") {
                guard index + 2 < path.count, isHex(path[index + 1]), isHex(path[index + 2])
                else { return false }
                index += 3
            } else {
                index += 1
            }
        }
        return true
    }

    static func isHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
