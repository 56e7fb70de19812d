// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "happy",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "happy", targets: ["HappyCLI"]),
        .executable(name: "happy-test-server", targets: ["HappyTestServerMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),
        .systemLibrary(
            name: "CQRencode", pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"]), .brew(["qrencode"])]),
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        .systemLibrary(
            name: "CPKCS11", pkgConfig: "p11-kit-1",
            providers: [.apt(["libp11-kit-dev"]), .brew(["p11-kit"])]),
        .target(
            name: "HappyKit",
            dependencies: [
                "CSodium", "CQRencode", "COpenSSL", "CPKCS11",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .executableTarget(
            name: "HappyCLI",
            dependencies: ["HappyKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(
            name: "HappyTestServer",
            dependencies: [
                "HappyKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "HappyTestServerMain",
            dependencies: ["HappyTestServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "HappyKitTests", dependencies: ["HappyKit"]),
        .testTarget(name: "HappyCLITests", dependencies: ["HappyCLI", "HappyKit"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "HappyKit", "HappyTestServer", "HappyCLI", "HappyTestServerMain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
    ]
)
