// ChatSecureKeystore reads a ChatSecure keystore from standard input the
// way ChatSecure does (java.util.Properties, KeyFactory "DSA") and prints,
// sorted, one line per property: for keys "KEY private|public FINGERPRINT"
// (the OTR fingerprint, upper case) after checking that Java encodes the
// key to the same bytes, for the rest "KEY=VALUE".
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.interfaces.DSAParams;
import java.security.interfaces.DSAPrivateKey;
import java.security.interfaces.DSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

public class ChatSecureKeystore {
    static void mpi(ByteArrayOutputStream out, BigInteger n) {
        byte[] b = n.toByteArray();
        int off = (b.length > 1 && b[0] == 0) ? 1 : 0;
        int len = b.length - off;
        out.write(len >>> 24);
        out.write(len >>> 16);
        out.write(len >>> 8);
        out.write(len);
        out.write(b, off, len);
    }

    static String fingerprint(DSAParams p, BigInteger y) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        mpi(out, p.getP());
        mpi(out, p.getQ());
        mpi(out, p.getG());
        mpi(out, y);
        StringBuilder s = new StringBuilder();
        for (byte b : MessageDigest.getInstance("SHA-1").digest(out.toByteArray())) {
            s.append(String.format("%02X", b & 0xff));
        }
        return s.toString();
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.load(System.in);
        KeyFactory kf = KeyFactory.getInstance("DSA");
        List<String> lines = new ArrayList<>();
        for (String key : props.stringPropertyNames()) {
            String value = props.getProperty(key);
            if (key.endsWith(".privateKey")) {
                byte[] der = Base64.getDecoder().decode(value);
                DSAPrivateKey k = (DSAPrivateKey) kf.generatePrivate(new PKCS8EncodedKeySpec(der));
                if (!Arrays.equals(der, k.getEncoded())) {
                    throw new Exception(key + ": Java encodes the key to other bytes");
                }
                DSAParams p = k.getParams();
                lines.add(key + " private " + fingerprint(p, p.getG().modPow(k.getX(), p.getP())));
            } else if (key.endsWith(".publicKey")) {
                byte[] der = Base64.getDecoder().decode(value);
                DSAPublicKey k = (DSAPublicKey) kf.generatePublic(new X509EncodedKeySpec(der));
                if (!Arrays.equals(der, k.getEncoded())) {
                    throw new Exception(key + ": Java encodes the key to other bytes");
                }
                lines.add(key + " public " + fingerprint(k.getParams(), k.getY()));
            } else {
                lines.add(key + "=" + value);
            }
        }
        Collections.sort(lines);
        for (String l : lines) {
            System.out.println(l);
        }
    }
}
