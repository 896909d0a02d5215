import Foundation
import SluiceCore
import SluiceStages

/// Every stage kind, in one explicit list (Swift has no registration hook, and one list
/// is easy to read). Each kind declares its keys, docs and builder in its own file
/// (`Stages/FilterStage+Config.swift`, …); this list is all the config side knows of
/// concrete stages.
public enum StageRegistry {
    public static let kinds: [StageKind] = [
        FilterStage.stageKind,
        ValidateStage.stageKind,
        SelectStage.stageKind,
        CommandStage.stageKind,
        SetStage.stageKind,
        RenameStage.stageKind,
        DropStage.stageKind,
        CastStage.stageKind,
        DefaultStage.stageKind,
        ExplodeStage.stageKind,
        DedupeStage.stageKind,
        SampleStage.stageKind,
        LookupStage.stageKind,
        FlattenStage.stageKind,
        UnflattenStage.stageKind,
        LimitStage.stageKind,
    ]

    public static func kind(named name: String) -> StageKind? {
        kinds.first { $0.name == name }
    }
}

extension StageKind {
    /// Reads the value under the kind's key through its declaration and builds the
    /// stage, reporting every problem at its YAML node (a builder's ``StageConfigError``
    /// key paths are mapped back to the nodes the reader visited). Nil after a problem.
    func make(_ node: ConfigNode, stageName: String) -> (any Stage)? {
        var nodes: [String: ConfigNode] = [:]
        let value: ConfigValue?
        if acceptsNull && node.isNull {
            nodes[name] = node
            value = .mapping([])
        } else {
            value = node.read(self.value.type, keyPath: name, nodes: &nodes)
        }
        guard let value else { return nil }
        // Relative paths in a stage's config start at the config file's directory.
        let configFile = node.diagnostics.file
        let base = configFile.isEmpty ? "" : URL(fileURLWithPath: configFile).deletingLastPathComponent().path
        do {
            return try build(value, StageBuildContext(stageName: stageName, baseDirectory: base))
        } catch {
            for problem in error.problems {
                let at = nodes[problem.keyPath.joined(separator: ".")] ?? node
                if let column = problem.column {
                    at.report(problem.message, columnInValue: column)
                } else {
                    at.report(problem.message)
                }
            }
            return nil
        }
    }
}
