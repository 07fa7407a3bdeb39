package dev.lstm4j.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A ready-made job: scores a table with {@link LstmTransformer} and writes the result, so a cluster can
 * run lstm4j without any code of the user's.
 *
 * <pre>
 * spark-submit --class dev.lstm4j.spark.ScoreTable lstm4j-spark-VERSION-bundle.jar \
 *     --weights hdfs:///models/tagger.pt --prefix encoder. \
 *     --input hdfs:///data/events.parquet --input-col steps --hn-col h_n --output-col "" \
 *     --output hdfs:///data/events-scored.parquet --threads 2
 * </pre>
 *
 * Options: {@code --weights} and {@code --input}, {@code --output} (required); {@code --format}
 * (default {@code parquet}, any format Spark reads and writes: {@code orc}, {@code json}, ...),
 * {@code --prefix}, {@code --input-col}, {@code --lengths-col}, {@code --h0-col}, {@code --c0-col},
 * {@code --output-col}, {@code --hn-col}, {@code --cn-col}, {@code --backend}, {@code --device},
 * {@code --batch}, {@code --threads}: the transformer's params of the same names, with its defaults.
 * An existing {@code --output} is never replaced: the job fails naming it.
 */
public final class ScoreTable {
    private ScoreTable() {
    }

    /** Runs the job in the session spark-submit starts; see the class comment for the options. */
    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().appName("lstm4j-score-table").getOrCreate();
        try {
            long rows = run(spark, args);
            System.out.println("lstm4j: wrote " + rows + " rows to " + args[java.util.Arrays.asList(args).indexOf("--output") + 1]);
        } finally {
            spark.stop();
        }
    }

    /**
     * Scores {@code --input} into {@code --output} in {@code spark}.
     *
     * @return the number of rows written
     * @throws IllegalArgumentException for an unknown or missing option or a bad param
     * @throws org.apache.spark.sql.AnalysisException (Spark's {@code PATH_ALREADY_EXISTS}) if the output exists
     */
    static long run(SparkSession spark, String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (String k : new String[] {"weights", "input", "output", "format", "prefix", "input-col", "lengths-col",
            "h0-col", "c0-col", "output-col", "hn-col", "cn-col", "backend", "device", "batch", "threads"}) {
            o.put(k, null);
        }
        for (int i = 0; i < args.length; i += 2) {
            String k = args[i].startsWith("--") ? args[i].substring(2) : "";
            if (!o.containsKey(k)) {
                throw new IllegalArgumentException("unknown option '" + args[i] + "'; options: --" + String.join(", --", o.keySet()));
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + ": missing value");
            }
            o.put(k, args[i + 1]);
        }
        for (String k : new String[] {"weights", "input", "output"}) {
            if (o.get(k) == null) {
                throw new IllegalArgumentException("option --" + k + ": required");
            }
        }
        LstmTransformer t = new LstmTransformer().setWeightsPath(o.get("weights"));
        set(o, "prefix", t::setPrefix);
        set(o, "input-col", t::setInputCol);
        set(o, "lengths-col", t::setLengthsCol);
        set(o, "h0-col", t::setH0Col);
        set(o, "c0-col", t::setC0Col);
        set(o, "output-col", t::setOutputCol);
        set(o, "hn-col", t::setHnCol);
        set(o, "cn-col", t::setCnCol);
        set(o, "backend", t::setBackend);
        set(o, "device", t::setDevice);
        set(o, "batch", v -> t.setBatchSize(integer("batch", v)));
        set(o, "threads", v -> t.setThreads(integer("threads", v)));
        String format = o.get("format") == null ? "parquet" : o.get("format");
        Dataset<Row> scored = t.transform(spark.read().format(format).load(o.get("input")));
        // ErrorIfExists (Spark's default): a user's existing table is never replaced.
        scored.write().format(format).mode("errorifexists").save(o.get("output"));
        return spark.read().format(format).load(o.get("output")).count();
    }

    private static void set(Map<String, String> o, String key, java.util.function.Consumer<String> setter) {
        if (o.get(key) != null) {
            setter.accept(o.get(key));
        }
    }

    private static int integer(String option, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --" + option + ": expected an integer, got '" + v + "'", e);
        }
    }
}
