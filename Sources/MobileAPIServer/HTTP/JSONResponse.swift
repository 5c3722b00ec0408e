import Hummingbird
import JSON

/// A JSON body with a status: what every handler of this server returns.
struct JSONResponse: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: JSONValue

    init(status: HTTPResponse.Status = .ok, _ body: JSONValue) {
        self.status = status
        self.body = body
    }

    var response: Response {
        let bytes = body.serializedBytes
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(bytes.count)],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }
}

extension Request {
    /// The request body parsed as JSON; an empty body is `null`.
    ///
    /// Malformed JSON and oversized bodies are `REQUEST_FORMAT_INVALID`, so handlers never
    /// see bytes that are not a document.
    func jsonBody(limit: Int = 1 << 20) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await self.body.collect(upTo: limit)
        } catch {
            throw ServiceError.requestTooLarge(limit: limit)
        }
        guard buffer.readableBytes > 0 else { return .null }
        do {
            return try JSONParser.parse(buffer.readableBytesView)
        } catch {
            throw ServiceError.requestFormatInvalid("Request body is not valid JSON: \(error.description)")
        }
    }

    /// The body as a JSON object; anything else is `REQUEST_FORMAT_INVALID`.
    func jsonObjectBody(limit: Int = 1 << 20) async throws -> JSONObject {
        let value = try await jsonBody(limit: limit)
        if case .null = value { return JSONObject() }
        guard let object = value.objectValue else {
            throw ServiceError.requestFormatInvalid("Request body must be a JSON object, got \(value.typeName)")
        }
        return object
    }
}
