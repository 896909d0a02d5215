import SluiceCore
import SluiceStages

/// The stage a config without stages runs: records pass unchanged (the runtime still
/// indexes them, so bad JSON becomes error lines as with any other pipeline).
struct PassThroughStage: Stage {
    func process(_ batch: inout Batch, context: StageContext) {}
}
