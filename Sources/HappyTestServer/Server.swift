import HappyKit
