package io.mysimbdp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** keygen, and upload --seal's usage errors: all before any request (the URL points nowhere). */
class SealCommandsTest {
  private static final String[] NOWHERE = {"--url", "http://127.0.0.1:9", "--tenant", "alice", "--key", "k"};

  private static Cli.Run run(String... args) {
    String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(NOWHERE))
        .toArray(String[]::new);
    return Cli.run(all);
  }

  @Test
  void keygenWritesANewKeyFileAndNeverOverwritesOne(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("t.key");
    Cli.Run made = Cli.run("keygen", "--out", key.toString(), "--key-id", "water-2026");
    assertEquals(0, made.exit(), made::toString);
    assertTrue(made.out().contains("wrote key water-2026"), made::toString);
    assertTrue(Files.readString(key).contains("\"keyId\" : \"water-2026\""));
    Cli.Run again = Cli.run("keygen", "--out", key.toString());
    assertEquals(2, again.exit(), again::toString);
    assertTrue(again.err().contains("never overwritten"), again::toString);
    assertEquals(2, Cli.run("keygen", "--out", dir.resolve("u.key").toString(), "--key-id", "no spaces").exit());
  }

  @Test
  void uploadSealUsageErrorsComeBeforeAnyRequest(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("t.key");
    assertEquals(0, Cli.run("keygen", "--out", key.toString()).exit());
    Cli.Run noKey = run("upload", dir.toString(), "--seal", "a");
    assertEquals(2, noKey.exit(), noKey::toString);
    assertTrue(noKey.err().contains("--seal and --key-file go together"), noKey::toString);
    Cli.Run badMode = run("upload", dir.toString(), "--seal", "a:secret", "--key-file", key.toString());
    assertEquals(2, badMode.exit(), badMode::toString);
    assertTrue(badMode.err().contains("unknown sealing mode 'secret'"), badMode::toString);
    Files.writeString(dir.resolve("open.key"), "{}");
    Cli.Run badKey = run("upload", dir.toString(), "--seal", "a", "--key-file", dir.resolve("open.key").toString());
    assertEquals(2, badKey.exit(), badKey::toString);
    assertTrue(badKey.err().contains("Invalid --key-file"), badKey::toString);
  }
}
