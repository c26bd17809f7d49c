"""A long-polling chat handler: get() keeps the callback on self, another method pads with it."""
import tornado.web


class ChatHandler(tornado.web.RequestHandler):
    def handle_message(self, message):
        if self.format == "shell":
            self.write(message + "\n")
        else:
            self.write(message)
        self.flush()

    def get(self, room_name):
        self.callback = self.get_argument("callback", default=None)
        self.format = self.get_argument("format", default=None)
        self.room = room_name
