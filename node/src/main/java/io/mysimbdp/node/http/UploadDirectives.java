package io.mysimbdp.node.http;

import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.Route;
import io.mysimbdp.node.batch.DuplicateFile;
import io.mysimbdp.protocol.Tus;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/** What the two upload APIs (plain {@code files} and tus {@code uploads}) share: duplicate handling. */
abstract class UploadDirectives extends ApiDirectives {

  protected UploadDirectives(Authenticator authenticator, long maxControlBodyBytes) {
    super(authenticator, maxControlBodyBytes);
  }

  /**
   * The query parameter {@code duplicate}: absent (a file the tenant has already is refused) or
   * {@code allow} (keep a copy).
   */
  protected Route duplicatePolicy(java.util.function.Function<Boolean, Route> inner) {
    return parameterOptional("duplicate", value -> {
      if (value.isEmpty()) {
        return inner.apply(false);
      }
      if (!value.get().equals("allow")) {
        return error(StatusCodes.BAD_REQUEST, "invalid_parameter",
            "duplicate is 'allow' (keep a copy of a file the tenant has already) or absent, not '" + value.get() + "'");
      }
      return inner.apply(true);
    });
  }

  /**
   * Completes with {@code onDone} when {@code stage} succeeds; a {@link DuplicateFile} is answered
   * 409 {@code duplicate_file} naming the existing file (in {@code details.fileId} and the
   * {@code Mysimbdp-File-Id} header); any other failure goes to the usual error handling.
   */
  protected <T> Route answeringDuplicates(CompletionStage<T> stage, java.util.function.Function<T, Route> onDone) {
    return onComplete(stage, result -> {
      if (result.isSuccess()) {
        return onDone.apply(result.get());
      }
      Throwable cause = unwrap(result.failed().get());
      if (cause instanceof DuplicateFile duplicate) {
        return respondWithHeader(RawHeader.create(Tus.FILE_ID, duplicate.existingFileId()), () -> error(StatusCodes.CONFLICT,
            "duplicate_file", duplicate.getMessage(), Map.of("fileId", duplicate.existingFileId())));
      }
      return failWith(cause);
    });
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable e = failure;
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
