package io.mysimbdp.node.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Chromium, headless, for browser tests: loads a page, lets its scripts run for a budget of
 * virtual time, then dumps the DOM or takes a screenshot. Each run has a fresh profile directory
 * and is stopped by its process id (and its children's) if it overstays.
 *
 * <p>Chromium is required: {@code .ci/run} installs it ({@code apt-get install -y chromium}). Where it
 * is missing the test fails and says how to install it; {@code CHROMIUM} names another binary.
 */
public final class HeadlessChromium {
  private static final List<String> CANDIDATES = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");
  private static final long TIMEOUT_SECONDS = 90;

  private final Path binary;

  private HeadlessChromium(Path binary) {
    this.binary = binary;
  }

  /** The installed Chromium, or an AssertionError that says how to install it. */
  public static HeadlessChromium require() {
    String configured = System.getenv("CHROMIUM");
    List<String> candidates = new ArrayList<>();
    if (configured != null && !configured.isBlank()) {
      candidates.add(configured);
    }
    candidates.addAll(CANDIDATES);
    for (String candidate : candidates) {
      Path path = Path.of(candidate);
      if (Files.isExecutable(path)) {
        return new HeadlessChromium(path);
      }
    }
    throw new AssertionError("headless Chromium is needed for the dashboard test and none was found at " + candidates
        + ": install it with `apt-get install -y chromium` (.ci/run does), or set CHROMIUM to its path");
  }

  /** The page's DOM after {@code budgetMillis} of virtual time. */
  public String dumpDom(String url, int budgetMillis) {
    Path out = run(List.of("--dump-dom", "--virtual-time-budget=" + budgetMillis, url), null);
    try {
      return Files.readString(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A PNG of the page at {@code width x height} after {@code budgetMillis} of virtual time. */
  public void screenshot(String url, Path png, int width, int height, int budgetMillis) {
    try {
      Files.createDirectories(png.toAbsolutePath().getParent());
      Files.deleteIfExists(png);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    run(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height, "--hide-scrollbars",
        "--virtual-time-budget=" + budgetMillis, url), png);
    if (!Files.isRegularFile(png)) {
      throw new AssertionError("Chromium wrote no screenshot to " + png);
    }
  }

  /** Runs Chromium to its end; answers the file its standard output went to. */
  private Path run(List<String> args, Path expectedFile) {
    Path profile = null;
    Process process = null;
    try {
      profile = Files.createTempDirectory("mysimbdp-chromium-");
      Path stdout = profile.resolve("stdout.txt");
      Path stderr = profile.resolve("stderr.txt");
      List<String> command = new ArrayList<>(List.of(
          binary.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
          "--disable-dev-shm-usage", "--mute-audio", "--user-data-dir=" + profile.resolve("profile")));
      command.addAll(args);
      process = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new AssertionError("Chromium did not finish within " + TIMEOUT_SECONDS + " s: " + command + "\n" + tail(stderr));
      }
      if (process.exitValue() != 0 && (expectedFile == null || !Files.exists(expectedFile))) {
        throw new AssertionError("Chromium exited with " + process.exitValue() + ": " + command + "\n" + tail(stderr));
      }
      Path kept = Files.createTempFile("mysimbdp-chromium-out-", ".txt");
      Files.copy(stdout, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      kept.toFile().deleteOnExit();
      return kept;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    } finally {
      if (process != null) {
        stop(process.toHandle());
      }
      if (profile != null) {
        TempDirs.deleteQuietly(profile);
      }
    }
  }

  /** Stops a Chromium and the processes it started (renderer, GPU, zygote), by their ids. */
  private static void stop(ProcessHandle chromium) {
    List<ProcessHandle> children = chromium.descendants().toList();
    chromium.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
    try {
      chromium.onExit().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // It was killed; the temp profile is removed below either way.
    }
  }

  private static String tail(Path file) {
    try {
      String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
      return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }

}
