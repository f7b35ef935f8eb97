package io.mysimbdp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.protocol.TenantConstraints;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** files, constraints, and the size and duration syntax of options. */
class CommandsTest {

  @Test
  void filesAndConstraintsPrintWhatThePlatformAnswers() throws Exception {
    try (FakePlatform platform = new FakePlatform("alice", "key")) {
      platform.constraints = new TenantConstraints(10, 50L, List.of("csv"));
      platform.addStaged("sensors-2024.csv", "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8));
      String url = platform.url().toString();

      Cli.Run files = Cli.run("files", "--url", url, "--tenant", "alice", "--key", "key");
      assertEquals(0, files.exit(), files::toString);
      assertTrue(files.out().matches("(?s)ID\\s+NAME\\s+CATEGORY\\s+FORMAT\\s+SIZE\\s+STATE\\s+UPLOADED\n.*"), files::toString);
      assertTrue(files.out().matches("(?s).*\nf1\\s+sensors-2024\\.csv\\s+default\\s+csv\\s+8 B\\s+staged\\s.*"), files::toString);
      assertTrue(files.out().contains("1 of 10 file slots used"), files::toString);

      Cli.Run constraints = Cli.run("constraints", "--url", url, "--tenant", "alice", "--key", "key");
      assertEquals(0, constraints.exit(), constraints::toString);
      assertTrue(constraints.out().contains("max files:    10"), constraints::toString);
      assertTrue(constraints.out().contains("max size:     50 MiB per file"), constraints::toString);
      assertTrue(constraints.out().contains("formats:      csv"), constraints::toString);

      Cli.Run json = Cli.run("constraints", "--json", "--url", url, "--tenant", "alice", "--key", "key");
      assertEquals("{\"maxFiles\":10,\"maxFileSizeMegabytes\":50,\"formats\":[\"csv\"]}", json.out().strip());
    }
  }

  @Test
  void sizesAreBinaryAndDurationsReadable() {
    assertEquals(64L << 20, Sizes.parse("64MB"));
    assertEquals(16L << 20, Sizes.parse("16MiB"));
    assertEquals(512L << 10, Sizes.parse("512k"));
    assertEquals(3L << 29, Sizes.parse("1.5G"));
    assertEquals(1000, Sizes.parse("1000"));
    assertThrows(IllegalArgumentException.class, () -> Sizes.parse("lots"));
    assertThrows(IllegalArgumentException.class, () -> Sizes.parse("-1MB"));
    assertEquals("1.5 MiB", Sizes.format(3L << 19));
    assertEquals("512 B", Sizes.format(512));
    assertEquals(Duration.ofMillis(250), Durations.parse("250ms"));
    assertEquals(Duration.ofSeconds(1), Durations.parse("1s"));
    assertEquals(Duration.ofMinutes(2), Durations.parse("2m"));
    assertEquals(Duration.ofSeconds(3), Durations.parse("PT3S"));
    assertThrows(IllegalArgumentException.class, () -> Durations.parse("soon"));
  }
}
