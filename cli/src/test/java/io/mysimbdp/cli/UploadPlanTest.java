package io.mysimbdp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.TenantConstraints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UploadPlanTest {
  @TempDir Path dir;

  @Test
  void recursiveWalkFollowsLinksInsideTheDirectoryOnly() throws Exception {
    Files.createDirectories(dir.resolve("2024/01"));
    Files.createDirectories(dir.resolve(".git"));
    Files.writeString(dir.resolve("2024/01/a.csv"), "x\n");
    Files.writeString(dir.resolve(".git/config.json"), "{}");
    Files.writeString(dir.resolve("B.JSONL"), "{}\n");
    Files.createSymbolicLink(dir.resolve("alias.csv"), dir.resolve("2024/01/a.csv"));
    Files.createSymbolicLink(dir.resolve("loop"), dir.resolve("2024"));
    Files.createSymbolicLink(dir.resolve("broken.csv"), dir.resolve("missing.csv"));

    UploadPlan plan =
        UploadPlan.of(dir, true, new TenantConstraints(10, 1L, null), new FileList(List.of(), 0, 10), 1024);

    assertEquals(
        List.of("2024/01/a.csv", "B.JSONL", "alias.csv"),
        plan.uploads().stream().map(UploadPlan.Upload::name).toList());
    assertEquals("ndjson", plan.uploads().get(1).format().id());
    assertEquals(dir.resolve("2024/01/a.csv").toRealPath(), plan.uploads().get(2).path(), "a link inside DIR is read through");
    Map<String, String> skipped = plan.skipped().stream().collect(Collectors.toMap(UploadPlan.Skipped::name, UploadPlan.Skipped::reason));
    assertEquals(
        Map.of(".git", "hidden directory", "loop", "symbolic link to a directory (not followed)", "broken.csv", "broken symbolic link"),
        skipped);
  }

  @Test
  void resumableAboveTheThresholdAndNoSlotsWhenFull() throws Exception {
    Files.write(dir.resolve("big.csv"), new byte[2048]);
    Files.write(dir.resolve("small.csv"), new byte[1024]);
    UploadPlan plan = UploadPlan.of(dir, false, new TenantConstraints(3, 1L, List.of("csv")), new FileList(List.of(), 1, 3), 1024);
    assertEquals(List.of(true, false), plan.uploads().stream().map(UploadPlan.Upload::resumable).toList());

    UploadPlan full = UploadPlan.of(dir, false, new TenantConstraints(3, 1L, List.of("csv")), new FileList(List.of(), 3, 3), 1024);
    assertEquals(0, full.uploads().size());
    assertEquals(2, full.skipped().size());
  }
}
