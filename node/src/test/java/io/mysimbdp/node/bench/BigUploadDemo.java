package io.mysimbdp.node.bench;

import io.mysimbdp.cli.PlatformClient;
import io.mysimbdp.node.testing.ExampleData;
import io.mysimbdp.node.testing.FreePorts;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.NodeProcess;
import io.mysimbdp.protocol.Tus;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A very big file through the resumable upload into a node whose heap is capped: the node runs
 * as its own process with {@code -Xmx512m}; the file (default 2 GiB of water-quality CSV) is sent
 * with tus; the first PATCH's connection is cut halfway; the upload resumes at the server's offset;
 * the staged file's SHA-256 (computed by the node from the stored chunks) must equal the file's.
 *
 * <p>Run: {@code scripts/big-upload.sh [bytes]}.
 */
public final class BigUploadDemo {
  static {
    io.mysimbdp.node.CommonPoolParallelism.ensure(); // a main that embeds a node: before anything starts the common pool
  }


  public static void main(String[] args) throws Exception {
    long target = args.length > 0 ? Long.parseLong(args[0]) : 2L << 30;
    Path work = Files.createTempDirectory("mysimbdp-big-upload");
    try {
      Path csv = work.resolve("big.csv");
      String sha256 = writeCsv(csv, target);
      long size = Files.size(csv);
      System.out.printf(Locale.ROOT, "file: %,d bytes, sha256 %s%n", size, sha256);

      NodeProcess.Settings settings = new NodeProcess.Settings(work.resolve("data"), FreePorts.next(), FreePorts.next(),
          FreePorts.next(), Map.of());
      Files.createDirectories(settings.dataDir());
      NodeProcess node = NodeProcess.start(settings, "node.log", "-Xmx512m").awaitReady();
      try {
        HttpApi api = new HttpApi(settings.apiUrl(), node.adminToken(settings));
        String key = api.createTenant("big");
        api.constraints("big", "{\"maxFileSizeMegabytes\":4096}");
        PlatformClient client = new PlatformClient(URI.create(settings.apiUrl()), "big", key);
        URI location = client.createUpload(size, "big.csv", "water", "text/csv");

        long start = System.nanoTime();
        long cutAt = size / 2;
        try {
          HttpClient.newHttpClient().send(HttpRequest.newBuilder(location)
              .header("Authorization", "Bearer " + key).header(Tus.RESUMABLE, Tus.VERSION)
              .header("Content-Type", Tus.OFFSET_CONTENT_TYPE).header(Tus.UPLOAD_OFFSET, "0")
              .method("PATCH", HttpRequest.BodyPublishers.fromPublisher(
                  HttpRequest.BodyPublishers.ofInputStream(() -> cutAfter(csv, cutAt)), size))
              .build(), HttpResponse.BodyHandlers.ofString());
          throw new IllegalStateException("the PATCH should have been cut");
        } catch (IOException expected) {
          System.out.printf(Locale.ROOT, "connection cut after %,d bytes (%s)%n", cutAt, expected.getMessage());
        }
        Thread.sleep(2000);
        PlatformClient.UploadStatus status = client.uploadStatus(location);
        System.out.printf(Locale.ROOT, "server offset after the cut: %,d bytes%n", status.offset());
        PlatformClient.TusResult result = client.resumeUpload(csv, location, 64L << 20, null);
        double seconds = (System.nanoTime() - start) / 1e9;
        String staged = api.get("/v1/tenants/big/files/" + result.fileId(), key).json().path("sha256").asText();
        System.out.printf(Locale.ROOT, "uploaded %,d bytes in %.1f s (%.1f MB/s) into a node with -Xmx512m%n", size, seconds, size / 1e6 / seconds);
        System.out.printf(Locale.ROOT, "staged file sha256 %s: %s%n", staged, staged.equals(sha256) ? "MATCHES" : "DIFFERS");
        if (!staged.equals(sha256)) {
          System.exit(1);
        }
        String log = Files.readString(node.log);
        if (log.contains("OutOfMemoryError")) {
          System.out.println("the node ran out of memory");
          System.exit(1);
        }
      } finally {
        node.stop();
      }
    } finally {
      io.mysimbdp.node.testing.TempDirs.deleteQuietly(work);
    }
  }

  private static InputStream cutAfter(Path file, long cutAt) {
    try {
      InputStream in = Files.newInputStream(file);
      return new InputStream() {
        long position;

        @Override
        public int read() throws IOException {
          byte[] one = new byte[1];
          return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          if (position >= cutAt) {
            in.close();
            throw new IOException("connection cut by the demo");
          }
          int n = in.read(b, off, (int) Math.min(len, cutAt - position));
          if (n > 0) {
            position += n;
          }
          return n;
        }
      };
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Repeats the water-quality rows (fresh ids) until the file reaches {@code target} bytes. */
  private static String writeCsv(Path target, long bytes) throws Exception {
    Path source = ExampleData.waterQuality();
    List<String> lines = Files.readAllLines(source);
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(target), 1 << 20)) {
      byte[] header = (lines.get(0) + "\n").getBytes();
      out.write(header);
      digest.update(header);
      long written = header.length;
      for (long i = 0; written < bytes; i++) {
        String line = lines.get(1 + (int) (i % (lines.size() - 1)));
        byte[] row = (line.replaceFirst(",", "-r" + i + ",") + "\n").getBytes();
        out.write(row);
        digest.update(row);
        written += row.length;
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

}
