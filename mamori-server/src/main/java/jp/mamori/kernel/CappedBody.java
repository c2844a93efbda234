package jp.mamori.kernel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * An HTTP answer's body collected up to a ceiling: a larger one fails with an {@link IOException} naming the ceiling and
 * cancels the transfer, so that an outside party (an identity provider, a time-stamping or revocation service) can never
 * make the server hold more than {@code max} bytes of its answer. For {@code HttpClient.sendAsync(request,
 * info -> new CappedBody(max))}.
 */
public final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final int max;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    public CappedBody(int max) {
        if (max <= 0) {
            throw new IllegalArgumentException("a ceiling must be positive");
        }
        this.max = max;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        if (result.isDone()) {
            return;
        }
        for (ByteBuffer b : items) {
            if (out.size() + b.remaining() > max) {
                subscription.cancel();
                result.completeExceptionally(new IOException("the answer is larger than " + max + " bytes"));
                return;
            }
            byte[] chunk = new byte[b.remaining()];
            b.get(chunk);
            out.write(chunk, 0, chunk.length);
        }
    }

    @Override
    public void onError(Throwable t) {
        if (!result.isDone()) {
            result.completeExceptionally(t);
        }
    }

    @Override
    public void onComplete() {
        result.complete(out.toByteArray());
    }
}
