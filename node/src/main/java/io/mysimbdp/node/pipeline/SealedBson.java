package io.mysimbdp.node.pipeline;

import io.mysimbdp.functions.sealed.SealedValue;
import io.mysimbdp.protocol.SealedEnvelope;
import java.util.Base64;
import java.util.Locale;
import org.bson.BsonBinary;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import org.bson.json.StrictJsonWriter;
import org.bson.types.Binary;

/**
 * Sealed values in the store: BSON binary of the user-defined subtype
 * {@link SealedEnvelope#BSON_SUBTYPE} holding the envelope, so a document never holds one as text;
 * and back to the JSON form ({@code {"$sealed":"<base64url>"}}) when records are read out.
 */
public final class SealedBson {
  /** Relaxed extended JSON, sealed values in their JSON form (other binaries as usual). */
  public static final JsonWriterSettings RELAXED_JSON =
      JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).binaryConverter(SealedBson::writeBinary).build();

  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  private SealedBson() {}

  public static Binary binary(SealedValue value) {
    return new Binary(SealedEnvelope.BSON_SUBTYPE, value.envelope().bytes());
  }

  /**
   * Whether a stored binary is a sealed value: subtype {@link SealedEnvelope#BSON_SUBTYPE}, or
   * subtype 0 framing as an envelope, since the embedded store (mongo-java-server) keeps binaries
   * but not their subtype. Tenant records never hold other binaries: parsers and functions produce
   * JSON values only.
   */
  public static boolean isSealed(byte type, byte[] data) {
    if (type == SealedEnvelope.BSON_SUBTYPE) {
      return true;
    }
    if (type != 0) {
      return false;
    }
    try {
      SealedEnvelope.parse(data);
      return true;
    } catch (SealedEnvelope.MalformedException e) {
      return false;
    }
  }

  private static void writeBinary(BsonBinary value, StrictJsonWriter writer) {
    if (isSealed(value.getType(), value.getData())) {
      writer.writeStartObject();
      writer.writeString(SealedEnvelope.JSON_KEY, BASE64URL.encodeToString(value.getData()));
      writer.writeEndObject();
      return;
    }
    // The driver's relaxed form of other binaries.
    writer.writeStartObject();
    writer.writeStartObject("$binary");
    writer.writeString("base64", Base64.getEncoder().encodeToString(value.getData()));
    writer.writeString("subType", String.format(Locale.ROOT, "%02x", value.getType()));
    writer.writeEndObject();
    writer.writeEndObject();
  }
}
