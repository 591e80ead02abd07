import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

// Props is the Java side of javaprops's interop test.
//   load FILE...  Properties.load each file; print "== FILE", then one line
//                 per property, sorted: the key and the value as code points
//                 (hex, '.'-separated, "-" when empty; a lone surrogate is
//                 printed as fffd), or "ERROR" when load refuses the file
//   store         read "KEY VALUE" lines (code points as above) from stdin;
//                 for each, store a Properties holding just that pair and
//                 print its lines but the date comment
public class Props {
    static String cps(String s) {
        if (s.isEmpty()) return "-";
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
            if (b.length() > 0) b.append('.');
            b.append(Integer.toHexString(c));
        });
        return b.toString();
    }

    static String parse(String s) {
        if (s.equals("-")) return "";
        StringBuilder b = new StringBuilder();
        for (String c : s.split("\\.")) b.appendCodePoint(Integer.parseInt(c, 16));
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, "UTF-8");
        if (args[0].equals("load")) {
            for (int i = 1; i < args.length; i++) {
                out.println("== " + args[i]);
                Properties p = new Properties();
                try (InputStream in = new FileInputStream(args[i])) {
                    p.load(in);
                } catch (IllegalArgumentException e) {
                    out.println("ERROR");
                    continue;
                }
                List<String> lines = new ArrayList<>();
                for (String k : p.stringPropertyNames()) lines.add(cps(k) + " " + cps(p.getProperty(k)));
                Collections.sort(lines);
                for (String l : lines) out.println(l);
            }
        } else {
            BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String l; (l = r.readLine()) != null; ) {
                String[] f = l.split(" ");
                Properties p = new Properties();
                p.setProperty(parse(f[0]), parse(f[1]));
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                p.store(b, null);
                for (String s : b.toString("ISO-8859-1").split("\n")) {
                    if (!s.startsWith("#")) out.println(s);
                }
            }
        }
        out.flush();
    }
}
