package dev.lstm4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.encoders.AgnosticEncoder;
import org.apache.spark.sql.catalyst.encoders.AgnosticEncoders;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Row encoders under which the {@code array<array<float|double>>} columns the scorer reads or writes are
 * Java arrays in the {@link Row} instead of Scala sequences: {@code float[][]} / {@code double[][]} where
 * the type says values cannot be null (the output columns), {@code Float[][]} / {@code Double[][]} where
 * they can (Spark's primitive decoder would read a null value as 0 without a word).
 *
 * <p>Why: with {@link Encoders#row}, every value of those columns went through Scala collection builders
 * and boxes on the way in and again on the way out (the input column passes through to the output): in a
 * local[1] JFR profile (T=10, I=32, H=128, h_n only) row encode, decode and unboxing took 34 of the task
 * thread's 71 Java samples, the forward pass 4 (plus ~20 native); with these encoders, 25 of 61.
 * Spark's array encoder copies primitive arrays straight from and into its {@code UnsafeArrayData}; boxed
 * Java arrays still skip the Scala collection builders.
 *
 * <p>These are Spark's catalyst encoders (the ones {@code Encoders.row} itself builds since Spark 3.4), not
 * a stable public API; the one place that names them is here.
 */
final class PrimitiveArrays {
    private PrimitiveArrays() {
    }

    /** {@code Encoders.row(schema)}, with the columns named in {@code primitive} decoded to primitive 2-D arrays. */
    static Encoder<Row> rowEncoder(StructType schema, Set<String> primitive) {
        AgnosticEncoders.RowEncoder plain = (AgnosticEncoders.RowEncoder) Encoders.row(schema);
        List<AgnosticEncoders.EncoderField> fields = new ArrayList<>();
        for (AgnosticEncoders.EncoderField f : CollectionConverters.asJava(plain.fields())) {
            AgnosticEncoder<?> enc = primitive.contains(f.name()) ? nested(f.enc().dataType()) : f.enc();
            fields.add(new AgnosticEncoders.EncoderField(f.name(), enc, f.nullable(), f.metadata(), f.readMethod(),
                    f.writeMethod()));
        }
        return new AgnosticEncoders.RowEncoder(CollectionConverters.asScala(fields).toList());
    }

    /** array<array<float|double>> with the type's own null flags, as primitive or (nullable values) boxed arrays. */
    private static AgnosticEncoder<?> nested(DataType t) {
        ArrayType outer = (ArrayType) t;
        ArrayType inner = (ArrayType) outer.elementType();
        boolean f32 = inner.elementType().equals(DataTypes.FloatType);
        AgnosticEncoder<?> value = inner.containsNull()
                ? (f32 ? AgnosticEncoders.BoxedFloatEncoder$.MODULE$ : AgnosticEncoders.BoxedDoubleEncoder$.MODULE$)
                : (f32 ? AgnosticEncoders.PrimitiveFloatEncoder$.MODULE$ : AgnosticEncoders.PrimitiveDoubleEncoder$.MODULE$);
        return new AgnosticEncoders.ArrayEncoder<>(new AgnosticEncoders.ArrayEncoder<>(value, inner.containsNull()),
                outer.containsNull());
    }
}
