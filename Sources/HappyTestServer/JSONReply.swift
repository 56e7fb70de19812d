import Foundation
import Hummingbird

/// A JSON document, so replies are written by hand from PROTOCOL.md with literal key names and never share
/// HappyKit's wire models. Decoding is strict: `true` is never a number and `1` is never a boolean.
enum JSON: Codable, Equatable, Sendable, ExpressibleByDictionaryLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int) { self = .number(Double(value)) }
    init(arrayLiteral elements: JSON...) { self = .array(elements) }
    init(nilLiteral: ()) { self = .null }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 {
                try container.encode(Int(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    subscript(key: String) -> JSON? {
        if case .object(let object) = self { object[key] } else { nil }
    }
}

/// A failure a handler answers with `{"error": message}`; `ErrorReplyMiddleware` turns it into the response.
struct ErrorReply: Error {
    let status: HTTPResponse.Status
    let message: String
    var headers: HTTPFields = [:]

    static func badRequest(_ message: String) -> ErrorReply { ErrorReply(status: .badRequest, message: message) }
}

enum JSONReply {
    static func response(_ body: JSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A `JSON` value holds only strings, finite numbers, booleans, arrays and objects, so it always encodes.
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        response(["error": .string(message)], status: status, headers: headers)
    }
}

/// A JSON object request body with typed field access; every mistake is a 400 `{"error": …}`.
struct JSONBody {
    let fields: [String: JSON]

    static func read(_ request: Request) async throws -> JSONBody {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let parsed: JSON
        do { parsed = try JSONDecoder().decode(JSON.self, from: Data(buffer.readableBytesView)) } catch {
            throw ErrorReply.badRequest("Malformed JSON body")
        }
        guard case .object(let fields) = parsed else { throw ErrorReply.badRequest("The body must be a JSON object") }
        return JSONBody(fields: fields)
    }

    func string(_ key: String) throws -> String {
        guard case .string(let value) = fields[key] else { throw ErrorReply.badRequest("\(key) must be a string") }
        return value
    }

    /// A boolean that may be absent or null (zod's `nullish()`).
    func optionalBool(_ key: String) throws -> Bool? {
        switch fields[key] {
        case nil, .null: return nil
        case .bool(let value): return value
        default: throw ErrorReply.badRequest("\(key) must be a boolean")
        }
    }

    /// A string that may be absent or null.
    func optionalString(_ key: String) throws -> String? {
        switch fields[key] {
        case nil, .null: return nil
        case .string(let value): return value
        default: throw ErrorReply.badRequest("\(key) must be a string")
        }
    }

    /// A non-negative integer that may be absent or null.
    func optionalCount(_ key: String) throws -> Int? {
        switch fields[key] {
        case nil, .null: return nil
        case .number(let value) where value >= 0 && value == value.rounded() && value < 1e9: return Int(value)
        default: throw ErrorReply.badRequest("\(key) must be a non-negative integer")
        }
    }
}

/// Turns a thrown `ErrorReply` into its JSON response.
struct ErrorReplyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do { return try await next(request, context) } catch let reply as ErrorReply {
            return JSONReply.error(reply.status, reply.message, headers: reply.headers)
        }
    }
}
