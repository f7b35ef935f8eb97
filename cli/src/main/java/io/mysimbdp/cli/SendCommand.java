package io.mysimbdp.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.cli.seal.RecordSealer;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mysimbdp send FILE|-}: streams records to {@code POST messages} in requests of up to
 * {@code --batch} records, each with {@code Idempotency-Key: <sha256 of the input>:<request
 * index>}: sending the same input again (after a failure, a kill, or by mistake) stores nothing
 * twice, as the platform derives the records' ids from the key and the line.
 */
@Command(
    name = "send",
    mixinStandardHelpOptions = true,
    description = {
      "Sends records to your stream (POST messages): NDJSON (one JSON record a line), a JSON array of records,"
          + " or one JSON object; FILE or - for standard input.",
      "Records go in requests of --batch records (and at most --max-request-bytes), each with an Idempotency-Key"
          + " made of the input's SHA-256 and the request's index: run it again with the same input and --batch and"
          + " nothing is stored twice.",
      "429 and 503 are sent again after the platform's Retry-After, a dropped connection after a backoff."
    })
final class SendCommand implements Callable<Integer> {
  /**
   * Reads a sequence of root values (NDJSON; the protocol mapper refuses trailing tokens) and keeps
   * every number as written: decimals as BigDecimal, trailing zeros kept, so re-encoding a record
   * for the request changes no value.
   */
  private static final com.fasterxml.jackson.databind.ObjectMapper RECORDS =
      PlatformClient.READER.copy()
          .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
          .configure(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

  private static final com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, Object>> MAP = new com.fasterxml.jackson.core.type.TypeReference<>() {};

  /** Below the platform's 8 MiB per request, leaving room for the envelope. */
  private static final long DEFAULT_MAX_REQUEST = 4L << 20;

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE|-", description = "the records: a file, or - for standard input")
  String source;

  @Option(names = "--category", paramLabel = "C", description = "the records' category (routes them to a function and collection)")
  String category;

  @Option(names = "--batch", paramLabel = "N", defaultValue = "500", description = "records per request, 1..10000 (default ${DEFAULT-VALUE})")
  int batch;

  @Option(
      names = "--max-request-bytes",
      paramLabel = "SIZE",
      defaultValue = "4MB",
      converter = Sizes.Converter.class,
      description = "at most this many bytes of records per request (default ${DEFAULT-VALUE}; a larger single record goes alone)")
  long maxRequestBytes = DEFAULT_MAX_REQUEST;

  @Mixin RetryOptions retry;

  @Option(names = "--seal", paramLabel = "FIELDS",
      description = "seal these fields with your key before sending: f1,f2:det (randomized unless :det); see docs/sealing.md")
  String seal;

  @Option(names = "--key-file", paramLabel = "K", description = "the key file (mysimbdp keygen) --seal seals with")
  Path keyFile;

  /** Seals the chosen fields of every record before it is sent (null: nothing sealed). */
  private RecordSealer sealer;

  @Override
  public Integer call() throws Exception {
    if (batch < 1 || batch > 10_000) {
      throw new ParameterException(spec.commandLine(), "--batch must be between 1 and 10000, was " + batch);
    }
    if (category != null && category.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--category must not be blank");
    }
    sealer = SealedUpload.sealer(spec.commandLine(), seal, keyFile); // usage errors before any request
    PlatformClient client = retry.apply(spec, Commands.client(spec));
    Path input;
    Path spooled = null;
    if ("-".equals(source)) {
      // The key needs the whole input's hash before the first request: keep standard input on disk.
      spooled = Files.createTempFile("mysimbdp-send-", ".json");
      Files.copy(System.in, spooled, StandardCopyOption.REPLACE_EXISTING);
      input = spooled;
    } else {
      input = Path.of(source);
      if (!Files.isRegularFile(input)) {
        throw new ParameterException(spec.commandLine(), "FILE '" + source + "' is not a file");
      }
    }
    try {
      return send(client, input);
    } finally {
      if (spooled != null) {
        Files.deleteIfExists(spooled);
      }
    }
  }

  private int send(PlatformClient client, Path input) throws IOException, InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean terminal = Mysimbdp.terminal;
    String sha256 = UploadState.sha256(input);
    long size = Files.size(input);
    long started = System.nanoTime();
    long sent = 0;
    int requests = 0;
    int retried = 0;
    ByteArrayOutputStream chunk = new ByteArrayOutputStream();
    int inChunk = 0;
    try (CountingStream counting = new CountingStream(Files.newInputStream(input));
        JsonParser parser = RECORDS.createParser(counting)) {
      JsonToken first = parser.nextToken();
      boolean array = first == JsonToken.START_ARRAY;
      JsonToken token = array ? parser.nextToken() : first;
      while (token != null && token != JsonToken.END_ARRAY) {
        JsonNode record = parser.readValueAsTree();
        byte[] line = RECORDS.writeValueAsBytes(sealer == null || !record.isObject() ? record : sealer.seal(RECORDS.convertValue(record, MAP)));
        if (inChunk > 0 && (inChunk >= batch || chunk.size() + line.length + 1 > maxRequestBytes)) {
          retried += post(client, chunk, inChunk, sha256, requests, err);
          sent += inChunk;
          requests++;
          chunk.reset();
          inChunk = 0;
          progress(out, terminal, sent, requests, counting.count, size);
        }
        chunk.write(line);
        chunk.write('\n');
        inChunk++;
        token = parser.nextToken();
      }
      if (array && token == JsonToken.END_ARRAY && parser.nextToken() != null) {
        err.println("error: the input goes on after its JSON array");
        err.flush();
        return 1;
      }
      if (inChunk > 0) {
        retried += post(client, chunk, inChunk, sha256, requests, err);
        sent += inChunk;
        requests++;
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      if (terminal) {
        out.println();
      }
      err.println("error: the input is not NDJSON or JSON at line " + e.getLocation().getLineNr() + ", column "
          + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
      err.println(sent + " record(s) before it were accepted; fix the input and send it again: accepted records are not stored twice"
          + " (same --batch)");
      err.flush();
      return 1;
    } catch (PlatformException e) {
      if (terminal) {
        out.println();
      }
      err.println("error: request " + requests + " (records " + (sent + 1) + ".." + (sent + inChunk) + "): " + e.status() + " " + e.describe());
      err.println(sent + " record(s) were accepted before it; fix the input and send it again: accepted records are not stored twice"
          + " (same input, same --batch)");
      err.flush();
      return 1;
    }
    if (terminal) {
      out.print("\r\033[K");
    }
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    double seconds = Math.max(took.toNanos() / 1e9, 1e-3);
    out.printf(
        Locale.ROOT,
        "sent %d record(s) in %d request(s)%s in %s (%.0f records/s)%n",
        sent,
        requests,
        retried > 0 ? " (" + retried + " sent again)" : "",
        Durations.format(took),
        sent / seconds);
    out.flush();
    return 0;
  }

  /** Sends one request (retried as the client does); answers how often it was sent again. */
  private int post(PlatformClient client, ByteArrayOutputStream chunk, int records, String sha256, int index, PrintWriter err)
      throws IOException, InterruptedException {
    String key = sha256 + ":" + index;
    PlatformClient.Published published =
        client.publish(
            chunk.toByteArray(),
            category,
            key,
            (attempt, wait, reason) -> {
              err.println("retrying request " + index + " (" + records + " records) in " + Durations.format(wait) + ": " + reason);
              err.flush();
            });
    return published.retries();
  }

  private static void progress(PrintWriter out, boolean terminal, long sent, int requests, long read, long size) {
    if (!terminal) {
      return;
    }
    int width = 30;
    int filled = size == 0 ? width : (int) Math.min(width, read * width / size);
    out.print(String.format(
        Locale.ROOT,
        "\r\033[K[%s%s] %3d%%  %d records, %d requests",
        "#".repeat(filled),
        "-".repeat(width - filled),
        size == 0 ? 100 : read * 100 / size,
        sent,
        requests));
    out.flush();
  }

  /** Counts the bytes read, for the progress bar. */
  private static final class CountingStream extends FilterInputStream {
    volatile long count;

    CountingStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int off, int len) throws IOException {
      int n = super.read(buffer, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
