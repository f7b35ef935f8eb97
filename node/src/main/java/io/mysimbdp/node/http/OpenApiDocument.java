package io.mysimbdp.node.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import io.mysimbdp.protocol.ProtocolJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The tenant API's OpenAPI 3.1 document, written by hand in {@code openapi.yaml} (the one source:
 * {@code docs/api.md} is generated from it and a test checks it against the route tables of the
 * {@code *Routes} classes), served as JSON at {@code GET /v1/openapi.json} without a key: it is the
 * public description of the API, the same for every caller, and names no tenant.
 */
public final class OpenApiDocument {
  public static final String RESOURCE = "openapi.yaml";

  private OpenApiDocument() {}

  /** The document as JSON bytes, converted from the YAML resource once. */
  public static byte[] json() {
    try (InputStream in = OpenApiDocument.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the node's classpath");
      }
      return ProtocolJson.JSON.writeValueAsBytes(ProtocolJson.YAML.readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + RESOURCE, e);
    }
  }

  /** The answer to {@code GET /v1/openapi.json}. */
  static HttpResponse response(byte[] json) {
    return HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, json))
        .addHeader(RawHeader.create("Cache-Control", "public, max-age=300"));
  }
}
