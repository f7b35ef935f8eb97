package io.mysimbdp.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * Where each unfinished resumable upload of this user lives on the platform, by the file's
 * fingerprint, so that a CLI killed mid-upload (or a dropped network, or Ctrl-C) goes on from the
 * server's offset when run again instead of starting over and holding a second file slot.
 *
 * <p>One JSON file ({@code $XDG_STATE_HOME/mysimbdp/uploads.json}, else {@code
 * ~/.mysimbdp/uploads.json}; the system property {@code mysimbdp.state-dir} overrides the folder),
 * mode 0600 as it holds upload URLs of the tenant. Entries are keyed by platform URL, tenant, size,
 * modification time and SHA-256 of the file: a changed file never resumes someone else's bytes. Every
 * change is read-modify-write under an exclusive file lock and replaces the file atomically, so
 * parallel uploads and parallel CLIs keep each other's entries.
 */
public final class UploadState {
  /** One unfinished upload: where it is, and when it was created. */
  public record Entry(String location, String name, Instant createdAt) {}

  private static final ObjectMapper JSON = PlatformClient.READER;
  private static final TypeReference<TreeMap<String, Entry>> ENTRIES = new TypeReference<>() {};

  private final Path file;

  UploadState(Path file) {
    this.file = file;
  }

  /** The state file of this user (see the class comment). */
  public static UploadState standard() {
    String configured = System.getProperty("mysimbdp.state-dir");
    Path dir;
    if (configured != null && !configured.isBlank()) {
      dir = Path.of(configured);
    } else {
      String xdg = System.getenv("XDG_STATE_HOME");
      dir = xdg != null && !xdg.isBlank()
          ? Path.of(xdg, "mysimbdp")
          : Path.of(System.getProperty("user.home"), ".mysimbdp");
    }
    return new UploadState(dir.resolve("uploads.json"));
  }

  Path file() {
    return file;
  }

  /** The fingerprint of {@code path} on one platform and tenant: size, mtime and content hash. */
  public static String fingerprint(URI platform, String tenant, Path path, String sha256) throws IOException {
    return platform + "|" + tenant + "|" + Files.size(path) + "|" + Files.getLastModifiedTime(path).toMillis() + "|" + sha256;
  }

  /** The SHA-256 of a file's content, in hex. */
  public static String sha256(Path path) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(path), digest)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  Optional<Entry> get(String fingerprint) throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    return Optional.ofNullable(update(entries -> entries).get(fingerprint));
  }

  public void put(String fingerprint, Entry entry) throws IOException {
    update(entries -> {
      entries.put(fingerprint, entry);
      return entries;
    });
  }

  void remove(String fingerprint) throws IOException {
    if (Files.exists(file)) {
      update(entries -> {
        entries.remove(fingerprint);
        return entries;
      });
    }
  }

  /** Reads, changes and writes the entries under an exclusive lock; answers them. */
  private synchronized Map<String, Entry> update(UnaryOperator<TreeMap<String, Entry>> change) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      restrict(dir, "rwx------");
    }
    Path lockFile = dir.resolve(file.getFileName() + ".lock");
    try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = lockChannel.lock()) {
      TreeMap<String, Entry> before = new TreeMap<>();
      if (Files.exists(file) && Files.size(file) > 0) {
        try {
          before = JSON.readValue(file.toFile(), ENTRIES);
        } catch (IOException unreadable) {
          // A damaged state file only loses resumability: start over rather than fail the upload.
          before = new TreeMap<>();
        }
      }
      TreeMap<String, Entry> copy = new TreeMap<>(before);
      TreeMap<String, Entry> after = change.apply(copy);
      if (!after.equals(before) || !Files.exists(file)) {
        Path temporary = dir.resolve(file.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary);
        restrict(temporary, "rw-------");
        JSON.writerWithDefaultPrettyPrinter().writeValue(temporary.toFile(), after);
        try {
          Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return after;
    }
  }

  private static void restrict(Path path, String permissions) throws IOException {
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
    }
  }
}
