package org.densecl.experiment;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.data.io.GrayImage;
import org.densecl.data.io.ImageFolder;
import org.densecl.densecl.PretrainConfig;
import org.densecl.densecl.PretrainVerdict;
import org.densecl.seg.FinetuneConfig;

/**
 * The experiment's outputs once every run has finished: results.json, curves.png, efficiency.png (several
 * sizes), overlays.png, tsne.png and report.md, all written atomically and all rebuilt from the runs' own
 * files on every invocation, so a report never lags behind its runs.
 */
final class ExperimentReport {
    /** What the experiment read and decided before the runs. */
    record Inputs(Experiment.Options opts, ExperimentConfig cfg, PretrainConfig pretrain, FinetuneConfig finetune,
                  Map<ExperimentPlan.RunSpec, FinetuneConfig> runs, LabeledData labeled) {}

    private static final Color DENSECL_BEFORE = new Color(0x9ecae1);
    private static final Color KAIMING_BEFORE = new Color(0xfc9272);

    private ExperimentReport() {}

    static StudyResults write(ExperimentPlan plan, Inputs in, PretrainVerdict verdict, Timings timings,
                              long invocationStart) {
        long start = System.nanoTime();
        List<RunResult> results = new ArrayList<>();
        for (var e : in.runs().entrySet()) {
            results.add(RunResult.read(e.getKey(), in.labeled().trainingImages(e.getValue().data(), e.getKey().trial())));
        }
        StudyResults s = new StudyResults(plan.sizes(), in.labeled().counts(), plan.headline(), verdict, results);
        Path out = plan.output();
        ResultsJson.write(out, s, ResultsJson.readTree(plan.pretrainDir().resolve("summary.json")), in.cfg().trials());
        StudyFigures.curves(out.resolve("curves.png"), s);
        if (plan.efficiencyMode()) {
            StudyFigures.efficiency(out.resolve("efficiency.png"), s);
        }
        FinetuneConfig ft = in.finetune();
        Path dense0 = plan.run(ExperimentPlan.DENSECL, plan.headline(), 0).folder().resolve("last.safetensors");
        Path kaiming0 = plan.run(ExperimentPlan.KAIMING, plan.headline(), 0).folder().resolve("last.safetensors");
        List<String> overlayLines;
        MachineInfo machine;
        try (Backend be = Backends.open(ft.run().backend(), ft.run().threads(), "vector")) {
            machine = MachineInfo.of(be);
            overlayLines = OverlayPanels.write(out.resolve("overlays.png"), be, in.labeled().test(), dense0, kaiming0,
                    in.cfg().report().overlayImages());
            List<GrayImage> images = new ArrayList<>();
            for (int i = 0; i < in.labeled().test().size(); i++) {
                images.add(in.labeled().test().load(i).image());
            }
            List<FeatureMap.Source> sources = new ArrayList<>(List.of(
                    new FeatureMap.Source("DenseCL fine-tuned (t0)", StudyFigures.DENSECL, BackboneFeatures.finetuned(dense0)),
                    new FeatureMap.Source("Kaiming fine-tuned (t0)", StudyFigures.KAIMING, BackboneFeatures.finetuned(kaiming0))));
            if (in.cfg().report().tsneBeforeFinetuning()) {
                sources.add(new FeatureMap.Source("DenseCL pretrained, before fine-tuning", DENSECL_BEFORE,
                        BackboneFeatures.pretrained(plan.backbone())));
                sources.add(new FeatureMap.Source("Kaiming init (seed 0), before fine-tuning", KAIMING_BEFORE,
                        BackboneFeatures.kaiming(0)));
            }
            FeatureMap.write(out.resolve("tsne.png"), be, ft.model().segmentation().backbone(), images, ft.augmentation(),
                    sources);
        }
        timings.add("report", (System.nanoTime() - start) / 1e9);
        ExperimentPlan.RunSpec example = plan.run(ExperimentPlan.DENSECL, plan.headline(), 0);
        ReportMarkdown.write(out.resolve("report.md"), s, new ReportMarkdown.Context(in.opts().config().toString(),
                in.opts().overrides(), in.cfg().pretrain().config(), in.cfg().pretrain().overrides(),
                unlabeledImages(in.pretrain()), verdict.steps(), in.cfg().finetune().config(),
                in.cfg().finetune().overrides(), ft.optim().iterations(), ft.data().batch(), ft.data().crop(),
                ft.data().root(), ft.data().simulateCount(), in.labeled().splitSizes(), ft.data().simulateOverrides(),
                ft.data().simulateSeed(), command(in.cfg().finetune().config(), example), overlayLines,
                in.cfg().report().tsneBeforeFinetuning(), machine, (System.nanoTime() - invocationStart) / 1e9, timings));
        return s;
    }

    /** The images of the pretraining's folder (the config's count if the folder has gone since). */
    private static int unlabeledImages(PretrainConfig p) {
        Path root = Path.of(p.data().root());
        return java.nio.file.Files.isDirectory(root) ? new ImageFolder(root).size() : p.data().simulateCount();
    }

    /** One run as the equivalent finetune command line (single quotes keep the JSON values whole). */
    private static String command(String config, ExperimentPlan.RunSpec r) {
        StringBuilder b = new StringBuilder("./densecl finetune --config " + config + " --init " + r.init() + " --output "
                + r.folder());
        for (String o : r.overrides()) {
            b.append(" --set '").append(o).append('\'');
        }
        return b.toString();
    }
}
