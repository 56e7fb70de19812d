import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the connection's channel, which the fault injection closes
/// and direct mTLS reads the verified peer certificate from.
public struct TestServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
